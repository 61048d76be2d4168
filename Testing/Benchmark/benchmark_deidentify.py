#!/usr/bin/env python3
"""Benchmark: full-profile de-identification against plain `cp -r` of the same files, in one run.

Case 1: N generated 512x512 16-bit CT images with realistic headers.
Case 2: one enhanced CT object of 500 frames with per-frame functional groups.
Each case times `cp -r` and `dicom-deidentify anonymize` (the real command line: the
basic profile, and again with the options that add work) in turn, --repeat times, and prints the
median files/s of each with their range, the ratio, and the peak memory of the de-identification
for N/4 and N files (flat memory: the two stay close).

Usage: .venv/bin/python Testing/Benchmark/benchmark_deidentify.py [--files 1000] [--jobs 2] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CLI = Path(sys.executable).parent / "dicom-deidentify"
BASIC = []   # the basic profile alone: every private tag goes
OPTIONS = ["--retain-dates", "modified", "--clean-descriptors", "--clean-structured-content", "--clean-graphics",
           "--retain-safe-private"]


def ct_header() -> Dataset:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Doe^John^Q", "MRN0012345", "19640212"
    ds.InstitutionName, ds.ReferringPhysicianName = "Springfield General Hospital", "Hibbert^Julius"
    ds.StudyDescription, ds.SeriesDescription = "CT CHEST W CONTRAST", "AXIAL 1.25 mm"
    ds.AccessionNumber, ds.StudyID = "ACC7781234", "4471"
    ds.Rows = ds.Columns = 512
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.SamplesPerPixel = 1
    return ds


def make_ct_series(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    ds = ct_header()
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = generate_uid(), generate_uid(), generate_uid()
    pixels = (bytes(range(256)) * 2048)[: 512 * 512 * 2]
    ds.PixelData = pixels
    ds["PixelData"].VR = "OW"
    for n in range(count):
        ds.SOPInstanceUID = generate_uid()
        ds.InstanceNumber = n + 1
        ds.ImagePositionPatient = [-250.0, -250.0, -n * 1.25]
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        _save(ds, folder / f"IM{n:05d}.dcm")


def make_enhanced_ct(folder: Path, frames: int = 500) -> None:
    folder.mkdir(parents=True)
    ds = ct_header()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"   # Enhanced CT Image Storage
    ds.SOPInstanceUID = generate_uid()
    ds.NumberOfFrames = frames
    items = []
    for n in range(frames):
        item = Dataset()
        content = Dataset()
        content.FrameAcquisitionDateTime = "20240130101500.%06d" % n
        content.FrameReferenceDateTime = "20240130101500"
        content.InStackPositionNumber = n + 1
        item.FrameContentSequence = Sequence([content])
        position = Dataset()
        position.ImagePositionPatient = [-250.0, -250.0, -n * 1.25]
        item.PlanePositionSequence = Sequence([position])
        derivation = Dataset()
        derivation.DerivationDescription = "reconstructed for Doe John"
        item.DerivationImageSequence = Sequence([derivation])
        items.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(items)
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [0.7, 0.7]
    measures.SliceThickness = 1.25
    shared.PixelMeasuresSequence = Sequence([measures])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    ds.PixelData = (bytes(range(256)) * 2048)[: 512 * 512 * 2] * frames
    ds["PixelData"].VR = "OW"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    _save(ds, folder / "enhanced.dcm")


def _save(ds: Dataset, path: Path) -> None:
    if int(pydicom.__version__.split(".")[0]) >= 3:
        ds.save_as(str(path), enforce_file_format=True)
    else:
        ds.save_as(str(path), write_like_original=False)


def timed(command: list) -> tuple:
    """(seconds, peak RSS in MB of the command and its workers, CPU seconds in user and kernel mode).
    Dirty pages of earlier steps are flushed first, so that no command pays for another's writes."""
    subprocess.run(["sync"])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime)
    return seconds, max(after.ru_maxrss, before.ru_maxrss) / 1024, cpu


def compare(label: str, inputs: Path, count: int, work: Path, jobs: int, options: list, repeat: int) -> dict:
    """cp and de-identification of the same files, `repeat` times in turn; the medians are reported.
    Both outputs are deleted after each round, so that every round starts alike (on a virtual
    machine, writing into memory the page cache has not used before costs far more kernel time,
    for cp and de-identification alike)."""
    slug = "".join(c if c.isalnum() else "-" for c in label)
    key = work / "secrets" / "pseudonym.key"
    copies, runs, cpu, peak = [], [], [], 0.0
    for _round in range(repeat):
        copied, out = work / f"{slug}-cp", work / f"{slug}-out"
        copy_seconds, _, _ = timed(["cp", "-r", str(inputs), str(copied)])
        deid_seconds, peak, used = timed([str(CLI), "anonymize", str(inputs), "--output", str(out), "--key-file",
                                          str(key), "--create-key", "--quiet", "--jobs", str(jobs), "--report-dir",
                                          str(work / "secrets" / "reports" / slug), *options])
        written = len(list(out.rglob("*.dcm")))
        assert written == count, f"{label}: {written} of {count} files written"
        copies.append(count / copy_seconds)
        runs.append(count / deid_seconds)
        cpu.append(used)
        shutil.rmtree(copied)
        shutil.rmtree(out)
    cp_rate, deid_rate = statistics.median(copies), statistics.median(runs)
    user, kernel = cpu[runs.index(sorted(runs)[len(runs) // 2])]
    row = {"case": label, "files": count, "cp_files_per_s": cp_rate, "deid_files_per_s": deid_rate,
           "ratio": deid_rate / cp_rate, "peak_mb": peak}
    print(f"{label:24} {count:6d} files  cp: {cp_rate:8.1f} files/s ({min(copies):.0f}-{max(copies):.0f})   "
          f"de-identify: {deid_rate:8.1f} files/s ({min(runs):.0f}-{max(runs):.0f})   "
          f"({row['ratio'] * 100:5.1f}% of cp)   CPU of the median run: {user:5.2f} s user, {kernel:5.2f} s kernel"
          f"   first round: cp {copies[0]:.0f}, de-identify {runs[0]:.0f} files/s")
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each case; medians are reported")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="deid-bench-"))
    try:
        print(f"pydicom {pydicom.__version__}, {os.cpu_count()} cores, {args.jobs} jobs, work folder {work}")
        quarter = max(1, args.files // 4)
        make_ct_series(work / "ct-small-set", quarter)
        make_ct_series(work / "ct", args.files)
        print(f"files/s: median of {args.repeat} rounds (lowest-highest)")
        small = compare("CT, basic, N/4", work / "ct-small-set", quarter, work, args.jobs, BASIC, args.repeat)
        full = compare("CT, basic", work / "ct", args.files, work, args.jobs, BASIC, args.repeat)
        compare("CT, options", work / "ct", args.files, work, args.jobs, OPTIONS, args.repeat)
        # built last: children forked after this inherit its memory in their peak figure
        make_enhanced_ct(work / "enhanced", args.frames)
        compare(f"enhanced CT {args.frames} fr.", work / "enhanced", 1, work, args.jobs, BASIC, args.repeat)
        print(f"peak memory of a de-identification run: {small['peak_mb']:.0f} MB for {quarter} files, "
              f"{full['peak_mb']:.0f} MB for {args.files} files")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
