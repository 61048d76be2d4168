#!/usr/bin/env python3
"""Benchmark (issue 14.8): scene-scrubber scrub and check of a large subject hierarchy, beside unzip + zip.

The scene: P patients x S studies x R series (default 100 x 10 x 10 = 10,000 series items, 11,100
items), each with the DICOM attributes and UIDs Slicer's DICOM plugins set, built with slicer-core,
saved as Slicer saves an .mrb. Timed, --repeat times each (median and range): the real command line
`scene-scrubber scrub` (which also checks its output) and `scene-scrubber check` of the result, and
Python's zipfile extracting then re-packing the same bundle (what any tool that rewrites a bundle
at least does). The issue asks for scrub and check under 5 s on this machine: time linear in the
number of items (run with --patients 10 and 100 to see it).

Usage: .venv/bin/python Testing/Benchmark/benchmark_scene_scrubber.py [--patients 100] [--studies 10]
       [--series 10] [--repeat 3]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import slicer

CLI = Path(sys.executable).parent / "scene-scrubber"


def large_scene(patients: int, studies: int, series: int):
    scene = slicer.vtkMRMLScene()
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    for p in range(patients):
        name, patient_id = f"Doe{p}^John{p}", f"MRN{p:06d}"
        patient = sh.CreateSubjectItem(sh.GetSceneItemID(), name)
        for keyword, value in (("PatientName", name), ("PatientID", patient_id),
                               ("PatientBirthDate", f"19{50 + p % 50:02d}{1 + p % 12:02d}{1 + p % 28:02d}"),
                               ("PatientSex", "F")):
            sh.SetItemAttribute(patient, f"DICOM.{keyword}", value)
        sh.SetItemUID(patient, "DICOM", patient_id)
        for s in range(studies):
            uid = f"1.2.826.0.1.{p}.{s}"
            study = sh.CreateStudyItem(patient, f"CT chest {s} for John{p} Doe{p}")
            sh.SetItemAttribute(study, "DICOM.StudyInstanceUID", uid)
            sh.SetItemAttribute(study, "DICOM.StudyDate", f"2020{1 + s % 12:02d}{1 + s % 28:02d}")
            sh.SetItemAttribute(study, "DICOM.StudyDescription", f"CT chest {s} for John{p} Doe{p}")
            sh.SetItemUID(study, "DICOM", uid)
            for r in range(series):
                item = sh.CreateHierarchyItem(study, f"{r}: Axial {r}", "Series")
                sh.SetItemUID(item, "DICOM", f"{uid}.{r}")
                sh.SetItemAttribute(item, "DICOM.SeriesInstanceUID", f"{uid}.{r}")
                sh.SetItemAttribute(item, "DICOM.SeriesDescription", f"Axial {r}")
    return scene


def timed(function, repeat: int) -> list:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def shown(times: list) -> str:
    return f"{statistics.median(times):6.2f} s (range {min(times):.2f}-{max(times):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--studies", type=int, default=10)
    parser.add_argument("--series", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="scene-benchmark-"))
    try:
        scene = large_scene(args.patients, args.studies, args.series)
        logic = slicer.vtkMRMLApplicationLogic()
        logic.SetMRMLScene(scene)
        (work / "scene").mkdir()
        assert logic.SaveSceneToSlicerDataBundleDirectory(str(work / "scene"), None)
        assert logic.Zip(str(work / "scene.mrb"), str(work / "scene"))
        items = args.patients * (1 + args.studies * (1 + args.series))
        print(f"{items} subject hierarchy items ({args.patients} x {args.studies} x {args.series}), "
              f"bundle {(work / 'scene.mrb').stat().st_size / 1e6:.1f} MB")

        def scrub():
            (work / "clean.mrb").unlink(missing_ok=True)
            run = subprocess.run([str(CLI), "scrub", str(work / "scene.mrb"), "--output", str(work / "clean.mrb")],
                                 capture_output=True, text=True)
            assert run.returncode == 0, run.stdout + run.stderr

        def check():
            run = subprocess.run([str(CLI), "check", str(work / "clean.mrb")], capture_output=True, text=True)
            assert run.returncode == 0, run.stdout + run.stderr

        def unzip_zip():
            shutil.rmtree(work / "unpacked", ignore_errors=True)
            with zipfile.ZipFile(work / "scene.mrb") as archive:
                archive.extractall(work / "unpacked")
            (work / "repacked.mrb").unlink(missing_ok=True)
            with zipfile.ZipFile(work / "repacked.mrb", "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted((work / "unpacked").rglob("*")):
                    archive.write(path, path.relative_to(work / "unpacked").as_posix())

        scrub_times, check_times = timed(scrub, args.repeat), timed(check, args.repeat)
        total = [a + b for a, b in zip(scrub_times, check_times)]
        print(f"scene-scrubber scrub (checks its output): {shown(scrub_times)}")
        print(f"scene-scrubber check:                     {shown(check_times)}")
        print(f"scrub + check:                            {shown(total)}")
        print(f"unzip + zip of the same bundle:           {shown(timed(unzip_zip, args.repeat))}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
