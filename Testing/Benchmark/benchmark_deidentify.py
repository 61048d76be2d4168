#!/usr/bin/env python3
"""Benchmark: full-profile de-identification against plain `cp -r` of the same files, in one run.

Case 1: N generated 512x512 16-bit CT images with realistic headers.
Case 2: one enhanced CT object of 500 frames with per-frame functional groups.
Each case times `cp -r` and `dicom-deidentify anonymize` (the real command line: the
basic profile, and again with the options that add work) in turn, --repeat times, and prints the
median files/s of each with their range, the ratio, and the peak memory of the de-identification
for N/4 and N files (flat memory: the two stay close). The basic-profile CT cases also run GDCM's
`gdcmanon` (Debian libgdcm-tools, installed by setup.sh) on the same files in the same rounds and
print this project's files/s over gdcmanon's. The inputs are read, untimed, before each timed run.

With --burned-in N, instead: Clean Pixel Data on N images of the measured corpus (text drawn at
known boxes into pydicom's real CT, MR and US images, Testing/support/burned_in.py) and on N of
the same images without text. It prints the recall (planted boxes fully blanked, measured on the
pixels / boxes planted), the pixels changed outside the boxes, how many files were proven clean,
images/s through detection, blanking and the check (one process), and which planted lines each
reader alone (the detector, Tesseract) reads on the uncleaned images. CPU-seconds per image are
printed too, in all and per corpus image (693_UNCI.dcm is the 512x512 CT): on a shared machine
CPU-seconds say more than images/s. Then the command line with --burned-in-jobs workers on
--burned-in-copies 512x512 CTs with text: images/s of the run and of the whole command, and the
CPU-seconds per image of the whole command with all its processes.

With --cluster, instead: the N-file CT set with the basic profile through the local pool (--jobs N)
and through a Dask LocalCluster of as many worker processes (--scheduler local:N, the [cluster]
extra), in turn, --repeat times: files/s of the whole command (the cluster's start included) and
of the run itself (the command's own summary line: from the first file to the last, the cluster
already up), and the ratio of each to the local pool's; and the CPU-seconds of the whole command with all
its processes (workers, the cluster's scheduler and nannies), which move less with other sessions' load.

With --memory N, instead: flat memory (issue 19) on 1000 and N small files (8x8-pixel CT, one instance
each): the peak RSS of the command's own process (the parent: the report and summary go to disk as files
finish) and of its largest worker (getrusage RUSAGE_SELF and RUSAGE_CHILDREN, read in the command's
process as it exits), and the parent's growth per 1000 files.

Usage: .venv/bin/python Testing/Benchmark/benchmark_deidentify.py [--files 1000] [--jobs 2] [--repeat 3]
       .venv/bin/python Testing/Benchmark/benchmark_deidentify.py --burned-in 12
       .venv/bin/python Testing/Benchmark/benchmark_deidentify.py --cluster [--files 1000] [--jobs 2]
       .venv/bin/python Testing/Benchmark/benchmark_deidentify.py --memory 20000 [--jobs 2]
"""
from __future__ import annotations

import argparse
import os
import re
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


def read_untimed(inputs: Path) -> None:
    """Read every input once before a timed command: this virtual machine pages out file pages left alone
    for about a minute, so without it the first command of a round would pay for reading them back."""
    for path in sorted(inputs.rglob("*")):
        if path.is_file():
            with open(path, "rb") as handle:
                while handle.read(1 << 20):
                    pass


def gdcmanon_credentials(work: Path):
    """(key, certificate) of a throw-away self-signed certificate for `gdcmanon -e` (it encrypts the
    original attributes for its re-identify mode), or None when gdcmanon or openssl is missing."""
    if not (shutil.which("gdcmanon") and shutil.which("openssl")):
        return None
    folder = work / "gdcmanon-credentials"
    folder.mkdir()
    key, certificate = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-nodes", "-new", "-x509", "-keyout", str(key), "-out", str(certificate),
                    "-subj", "/CN=benchmark", "-days", "1"], check=True, capture_output=True)
    return key, certificate


def compare(label: str, inputs: Path, count: int, work: Path, jobs: int, options: list, repeat: int,
            gdcm=None) -> dict:
    """cp, de-identification and (with `gdcm`, the credentials of gdcmanon_credentials) GDCM's C++
    `gdcmanon` on the same files, `repeat` rounds in turn; medians are reported with their range, and the
    ratio of this project's files/s to gdcmanon's per round. The inputs are read, untimed, before each
    timed command. All outputs are deleted after each round, so that every round starts alike (on a
    virtual machine, writing into memory the page cache has not used before costs far more kernel time,
    for every command alike)."""
    slug = "".join(c if c.isalnum() else "-" for c in label)
    key = work / "secrets" / "pseudonym.key"
    copies, runs, anons, cpu, peak = [], [], [], [], 0.0
    for _round in range(repeat):
        copied, out, anon = work / f"{slug}-cp", work / f"{slug}-out", work / f"{slug}-gdcmanon"
        read_untimed(inputs)
        copy_seconds, _, _ = timed(["cp", "-r", str(inputs), str(copied)])
        read_untimed(inputs)
        deid_seconds, peak, used = timed([str(CLI), "anonymize", str(inputs), "--output", str(out), "--key-file",
                                          str(key), "--create-key", "--quiet", "--jobs", str(jobs), "--report-dir",
                                          str(work / "secrets" / "reports" / slug), *options])
        written = len(list(out.rglob("*.dcm")))
        assert written == count, f"{label}: {written} of {count} files written"
        if gdcm:
            anon.mkdir()
            read_untimed(inputs)
            anon_seconds, _, _ = timed(["gdcmanon", "-e", "-r", "--continue", "-i", str(inputs), "-o", str(anon),
                                        "-k", str(gdcm[0]), "-c", str(gdcm[1])])
            made = len([p for p in anon.rglob("*") if p.is_file()])
            assert made == count, f"{label}: gdcmanon wrote {made} of {count} files"
            anons.append(count / anon_seconds)
            shutil.rmtree(anon)
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
    if anons:
        ratios = [ours / theirs for ours, theirs in zip(runs, anons)]
        row["gdcmanon_files_per_s"], row["ratio_to_gdcmanon"] = statistics.median(anons), statistics.median(ratios)
        print(f"{'':24} {'':6}        gdcmanon: {row['gdcmanon_files_per_s']:8.1f} files/s "
              f"({min(anons):.0f}-{max(anons):.0f})   this project / gdcmanon: {row['ratio_to_gdcmanon']:.2f} "
              f"({min(ratios):.2f}-{max(ratios):.2f} over rounds)")
    return row


def run_rate(command: list) -> tuple:
    """(seconds of the whole command, files/s of its summary line: the run without the start-up)."""
    subprocess.run(["sync"])
    start = time.perf_counter()
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    found = re.search(r"^\d+ files in [\d.]+ s \((\d+) files/s\)", done.stdout, re.MULTILINE)
    assert done.returncode == 0 and found, done.stdout + done.stderr
    return seconds, float(found.group(1))


def cluster_case(inputs: Path, count: int, work: Path, jobs: int, repeat: int) -> None:
    """The local pool (--jobs) against a LocalCluster of as many workers (--scheduler local:N), in turn."""
    key = work / "secrets" / "pseudonym.key"
    rates = {"local pool": ([], []), f"local:{jobs}": ([], [])}
    cpu = {label: [] for label in rates}   # CPU-seconds of the command and all its processes: steadier than files/s

    def children_cpu() -> float:
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        return used.ru_utime + used.ru_stime
    for _round in range(repeat):
        for label, where in (("local pool", ["--jobs", str(jobs)]),
                             (f"local:{jobs}", ["--scheduler", f"local:{jobs}"])):
            out = work / "cluster-out"
            before = children_cpu()
            seconds, in_run = run_rate([str(CLI), "anonymize", str(inputs), "--output", str(out), "--key-file",
                                        str(key), "--create-key", "--quiet", "--report-dir",
                                        str(work / "secrets" / "reports"), *where])
            written = len(list(out.rglob("*.dcm")))
            assert written == count, f"{label}: {written} of {count} files written"
            rates[label][0].append(count / seconds)
            rates[label][1].append(in_run)
            cpu[label].append(children_cpu() - before)
            shutil.rmtree(out)
    base = [statistics.median(r) for r in rates["local pool"]]
    for label, (whole, in_run) in rates.items():
        command, run = statistics.median(whole), statistics.median(in_run)
        print(f"{label:12} {count:6d} files  whole command: {command:7.1f} files/s ({min(whole):.0f}-{max(whole):.0f}, "
              f"{command / base[0] * 100:5.1f}% of the pool)   the run alone: {run:7.1f} files/s "
              f"({min(in_run):.0f}-{max(in_run):.0f}, {run / base[1] * 100:5.1f}% of the pool)   CPU: "
              f"{statistics.median(cpu[label]):.2f} s ({statistics.median(cpu[label]) / statistics.median(cpu['local pool']) * 100:.0f}% of the pool's)")


def burned_in(count: int, work: Path) -> None:
    """Recall, changes outside the boxes and speed of Clean Pixel Data on the measured corpus."""
    import random

    import numpy as np
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # Testing/: support.burned_in
    from support.burned_in import CORPUS_IMAGES, CORPUS_LINES, box_blanked, planted_dataset
    from DicomDeidentifyLib import Deidentifier, DeidentifyOptions
    from DicomDeidentifyLib.pipeline import deidentify_file
    from DicomDeidentifyLib.pixel_detector import detect_text, detector_image, detector_version
    from DicomDeidentifyLib.pixel_io import decode_frames
    from DicomDeidentifyLib.pixel_text import find_text_lines, ocr_available, to_grey8
    engine = Deidentifier(DeidentifyOptions(clean_pixel_data=True), bytes(32))
    rng = random.Random(12)
    cases = []
    for n in range(count):
        lines = [(t, min(0.7, max(0.0, x + rng.uniform(-0.02, 0.05))), min(0.9, max(0.0, y + rng.uniform(-0.02, 0.02))),
                  size * rng.uniform(0.85, 1.2), face, ink) for t, x, y, size, face, ink in CORPUS_LINES]
        name = CORPUS_IMAGES[n % len(CORPUS_IMAGES)]
        ds, planted = planted_dataset(name, lines)
        path = work / "burned-in" / "in" / f"{n:04d}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        _save(ds, path)
        plain = work / "burned-in" / "plain" / f"{n:04d}.dcm"
        plain.parent.mkdir(parents=True, exist_ok=True)
        _save(planted_dataset(name, [])[0], plain)
        cases.append((name, path, plain, planted))
    engine.pixel_stage.plan(pydicom.dcmread(cases[0][1]))   # the detector's models loaded before timing
    from DicomDeidentifyLib.pixel_detector import _rapidocr
    _rapidocr()
    boxes = blanked = proven = 0
    outside_changed, outside_total, seconds, cpu = 0, 0, 0.0, 0.0

    def cpu_seconds():   # this process and its children (the tesseract program, where it is run)
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    read_by = {"detector": 0, "tesseract": 0}
    per_image = {}   # image name: [seconds, CPU-seconds, count] with text, then the same without

    def identifying_piece(text):
        return max(text.replace(",", "").split(), key=len).upper()
    for name, path, _plain, planted in cases:
        start, used = time.perf_counter(), cpu_seconds()
        result = deidentify_file(engine, path, work / "burned-in" / "out")
        seconds += time.perf_counter() - start
        cpu += cpu_seconds() - used
        entry = per_image.setdefault(name, [0.0, 0.0, 0, 0.0, 0.0, 0])
        entry[0] += time.perf_counter() - start
        entry[1] += cpu_seconds() - used
        entry[2] += 1
        before = decode_frames(pydicom.dcmread(path))[0]
        after = decode_frames(pydicom.dcmread(result.output))[0]
        fill = before.min()
        boxes += len(planted)
        blanked += sum(box_blanked(after, p, fill) for p in planted)
        proven += bool(result.pixel.get("proven"))
        inside = np.zeros(before.shape[:2], bool)
        for p in planted:
            x, y, w, h = p.box
            inside[max(0, y - 4):y + h + 4, max(0, x - 4):x + w + 4] = True
        changed = (after != before) if before.ndim == 2 else (after != before).any(axis=2)
        outside_changed += int(changed[~inside].sum())
        outside_total += int((~inside).sum())
        detector = " ".join(r.text for r in detect_text(detector_image(before))).upper().replace(" ", "")
        tesseract = " ".join(t for t, _ in find_text_lines(to_grey8(before))).upper().replace(" ", "") if ocr_available() else ""
        read_by["detector"] += sum(identifying_piece(p.text) in detector for p in planted)
        read_by["tesseract"] += sum(identifying_piece(p.text) in tesseract for p in planted)
    plain_seconds, plain_proven, plain_cpu = 0.0, 0, 0.0
    for name, _path, plain, _planted in cases:
        start, used = time.perf_counter(), cpu_seconds()
        result = deidentify_file(engine, plain, work / "burned-in" / "plain-out")
        plain_seconds += time.perf_counter() - start
        plain_cpu += cpu_seconds() - used
        per_image[name][3] += time.perf_counter() - start
        per_image[name][4] += cpu_seconds() - used
        per_image[name][5] += 1
        plain_proven += bool(result.pixel.get("proven"))
    print(f"Clean Pixel Data, {detector_version()}; second reader: {'tesseract' if ocr_available() else 'detector'}")
    print(f"  {count} images with text ({', '.join(CORPUS_IMAGES)}), {boxes} planted lines")
    print(f"  recall: {blanked}/{boxes} boxes fully blanked ({100 * blanked / boxes:.1f}%); "
          f"proven clean: {proven}/{count}")
    print(f"  pixels changed outside the boxes (4-pixel margin): {100 * outside_changed / outside_total:.2f}%")
    print(f"  with text: {count / seconds:.2f} images/s ({seconds / count:.2f} s each, one process; "
          f"{cpu / count:.2f} CPU-s each)")
    print(f"  without text: {count / plain_seconds:.2f} images/s ({plain_seconds / count:.2f} s each; "
          f"{plain_cpu / count:.2f} CPU-s each); "
          f"proven clean: {plain_proven}/{count}")
    for name, (w, c, n, plain_w, plain_c, plain_n) in per_image.items():
        print(f"    {name}: with text {n / w:.2f} images/s ({c / n:.2f} CPU-s each), "
              f"without {plain_n / plain_w:.2f} images/s ({plain_c / plain_n:.2f} CPU-s each)")
    print(f"  planted lines read on the uncleaned images (longest word): detector {read_by['detector']}/{boxes}, "
          f"tesseract {read_by['tesseract']}/{boxes}")


# the command line in a process that reports, as it exits, its own peak RSS and its largest child's
_MEASURED = ("import resource, runpy, sys\n"
             "sys.argv = ['dicom-deidentify'] + sys.argv[1:]\n"
             "try:\n    runpy.run_module('DicomDeidentifyLib', run_name='__main__')\n"
             "finally:\n    print('RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,\n"
             "          resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n")


def memory_case(count: int, work: Path, jobs: int) -> None:
    """Peak RSS (MB) of the parent and of the largest worker for 1000 and `count` small files."""
    rows = []
    for files in (1000, count):
        inputs = work / f"tiny-{files}"
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # Testing/: support.data
        from support.data import tiny_series
        tiny_series(inputs, files, patients=10)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _MEASURED, "anonymize", str(inputs), "--output",
                               str(work / f"tiny-out-{files}"), "--key-file", str(work / "secrets" / "pseudonym.key"),
                               "--create-key", "--quiet", "--jobs", str(jobs), "--report-dir",
                               str(work / "secrets" / "reports" / f"tiny-{files}")],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - start
        found = re.search(r"^RSS (\d+) (\d+)$", done.stderr, re.MULTILINE)
        assert done.returncode == 0 and found, done.stdout + done.stderr
        parent, worker = int(found.group(1)) / 1024, int(found.group(2)) / 1024   # ru_maxrss: kB on Linux
        rows.append((files, parent, worker))
        print(f"{files:6d} small files in {seconds:6.1f} s ({files / seconds:5.0f} files/s), {jobs} jobs: peak RSS "
              f"parent {parent:6.1f} MB, largest worker {worker:6.1f} MB")
        shutil.rmtree(inputs)
        shutil.rmtree(work / f"tiny-out-{files}")
    (small, small_parent, _), (large, large_parent, _) = rows
    print(f"parent's growth: {large_parent - small_parent:+.1f} MB from {small} to {large} files "
          f"({(large_parent - small_parent) * 1000 / max(1, large - small) * 1024:+.1f} kB per 1000 files)")


def burned_in_command(copies: int, jobs: int, work: Path) -> None:
    """The target of issue 12 point 7 as a user meets it: the command line (`anonymize --clean-pixel-data
    --jobs N`, a new key, so no cached outcome) on `copies` 512x512 CTs (693_UNCI.dcm) with the corpus's
    six lines planted (places and sizes varied), printing images/s of the run (its summary line's
    seconds: without start-up) and of the whole command (start-up, models loaded, report included), and
    the CPU-seconds per image of the whole command with its workers (steadier than images/s while other
    sessions load the machine; N / that is the bound N cores of its own would allow)."""
    import random
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # Testing/: support.burned_in
    from support.burned_in import CORPUS_LINES, planted_dataset
    rng = random.Random(7)
    inputs = work / "burned-in-cli" / "in"
    inputs.mkdir(parents=True, exist_ok=True)
    for n in range(copies):
        lines = [(t, min(0.7, max(0.0, x + rng.uniform(-0.02, 0.05))), min(0.9, max(0.0, y + rng.uniform(-0.02, 0.02))),
                  size * rng.uniform(0.85, 1.2), face, ink) for t, x, y, size, face, ink in CORPUS_LINES]
        _save(planted_dataset("693_UNCI.dcm", lines)[0], inputs / f"{n:04d}.dcm")
    out, secrets = work / "burned-in-cli" / "out", work / "burned-in-cli" / "secrets"
    load = os.getloadavg()[0]
    subprocess.run(["sync"])
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([str(CLI), "anonymize", str(inputs), "--output", str(out), "--key-file",
                           str(secrets / "pseudonym.key"), "--create-key", "--quiet", "--jobs", str(jobs),
                           "--report-dir", str(secrets / "reports"), "--clean-pixel-data"],
                          check=False, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)   # the command and its workers, start-up included
    cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    found = re.search(r"^(\d+) files in ([\d.]+) s", done.stdout, re.MULTILINE)
    assert done.returncode == 0 and found, done.stdout + done.stderr
    written = len(list(out.rglob("*.dcm")))
    assert written == copies, f"{written} of {copies} files written"
    run = float(found.group(2))
    print(f"  command line, --jobs {jobs}, {copies} 512x512 CTs with six lines (load {load:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after): the run {copies / run:.2f} images/s ({run:.1f} s), "
          f"the whole command {copies / seconds:.2f} images/s ({seconds:.1f} s); CPU of the whole command "
          f"{cpu / copies:.2f} CPU-s per image, all its processes (at most {jobs / max(cpu / copies, 1e-9):.2f} "
          f"images/s on {jobs} cores of its own)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each case; medians are reported")
    parser.add_argument("--burned-in", type=int, metavar="N", help="only the Clean Pixel Data case, on N images")
    parser.add_argument("--burned-in-copies", type=int, default=40, metavar="N",
                        help="with --burned-in: CTs with text for the command-line measurement")
    parser.add_argument("--burned-in-jobs", type=int, default=2, metavar="N",
                        help="with --burned-in: workers of the command-line measurement")
    parser.add_argument("--cluster", action="store_true",
                        help="only the local pool against a Dask LocalCluster of --jobs workers (the [cluster] extra)")
    parser.add_argument("--memory", type=int, metavar="N",
                        help="only the flat-memory case: peak RSS of parent and workers for 1000 and N small files")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="deid-bench-"))
    if args.memory:
        try:
            print(f"pydicom {pydicom.__version__}, {os.cpu_count()} cores, load average "
                  f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            memory_case(args.memory, work, args.jobs)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    if args.cluster:
        try:
            print(f"pydicom {pydicom.__version__}, {os.cpu_count()} cores, {args.jobs} workers, load average "
                  f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; files/s: median of {args.repeat} rounds")
            make_ct_series(work / "ct", args.files)
            cluster_case(work / "ct", args.files, work, args.jobs, args.repeat)
            print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    if args.burned_in:
        try:
            burned_in(args.burned_in, work)
            burned_in_command(args.burned_in_copies, args.burned_in_jobs, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    try:
        print(f"pydicom {pydicom.__version__}, {os.cpu_count()} cores, {args.jobs} jobs, work folder {work}")
        quarter = max(1, args.files // 4)
        make_ct_series(work / "ct-small-set", quarter)
        make_ct_series(work / "ct", args.files)
        gdcm = gdcmanon_credentials(work)
        print(f"files/s: median of {args.repeat} rounds (lowest-highest); "
              + ("gdcmanon (GDCM's C++ anonymizer, basic profile) beside the basic cases" if gdcm else
                 "gdcmanon not found (Debian libgdcm-tools): no comparison with it"))
        small = compare("CT, basic, N/4", work / "ct-small-set", quarter, work, args.jobs, BASIC, args.repeat, gdcm)
        full = compare("CT, basic", work / "ct", args.files, work, args.jobs, BASIC, args.repeat, gdcm)
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
