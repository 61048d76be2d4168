"""Held means held everywhere: `anonymize --into`, the Python API and the Slicer import hold files
whose pixels are not proven clean in the same held/ store beside the key, outside the side database;
the report names every held and every to-review file by its input path, the command line by its number
and output name (input path with --verbose); a plain --output folder gets the file, said per file to need
review."""
import json
from pathlib import Path

import pydicom

from DicomDeidentifyLib import DeidentifyOptions
from DicomDeidentifyLib.cli import main
from DicomDeidentifyLib.import_controller import ImportController
from DicomDeidentifyLib.runs import deidentify_folder
from support.burned_in import burned_in_dataset
from support.data import read, save


def inputs(folder: Path) -> Path:
    folder.mkdir(parents=True)
    save(burned_in_dataset(), folder / "us_with_text.dcm")     # at risk: held while not cleaned
    save(read("CT_small.dcm"), folder / "ct.dcm")
    return folder


def dicom_files(folder: Path) -> list:
    return sorted(p for p in Path(folder).rglob("*.dcm"))


def test_anonymize_into_a_side_database_holds_images_at_risk_outside_it(tmp_path, capsys):
    source = inputs(tmp_path / "in")
    key = tmp_path / "secrets" / "pseudonym.key"
    status = main(["anonymize", str(source), "--into", str(tmp_path / "side"), "--key-file", str(key),
                   "--create-key", "--quiet", "--jobs", "1", "--verbose"])
    assert status == 0
    shared = dicom_files(tmp_path / "side")
    assert len(shared) == 1 and pydicom.dcmread(shared[0]).Modality == "CT"      # only the CT is in the database
    [held] = dicom_files(key.parent / "held" / "pending")                          # the same store as the import's
    assert pydicom.dcmread(held).Modality == "US"
    pending = json.loads((key.parent / "held" / "pending.json").read_text())
    assert [Path(e["output"]) for e in pending] == [held]
    out = capsys.readouterr().out
    assert f"held     #2 {source / 'us_with_text.dcm'} -> held back at {held}" in out
    assert "Clean Pixel Data is off; needs review before it is shared" in out and "1 held back for review" in out
    report = json.loads(next((key.parent / "reports").rglob("report.json")).read_text())
    [entry] = [f for f in report["files"] if f["held"]]
    assert entry["source"] == str(source / "us_with_text.dcm") and entry["output"] == str(held)
    # the Slicer import sees it as pending and can release it after review
    controller = ImportController(tmp_path / "side", key_file=key)
    assert [h.output for h in controller.pending().held] == [held]


def test_the_python_api_holds_into_a_side_database_too(tmp_path):
    source = inputs(tmp_path / "in")
    key = tmp_path / "k" / "key"
    run = deidentify_folder([source], tmp_path / "side", DeidentifyOptions(), key_file=key, create_key=True,
                            side_database=True)
    assert [Path(h.output).parent.is_relative_to(key.parent / "held") for h in run.held] == [True]
    assert [r.held for r in run.summary.results if r.source.endswith("us_with_text.dcm")] == [True]
    assert len(dicom_files(tmp_path / "side")) == 1


def test_a_plain_output_folder_gets_the_file_and_says_it_needs_review(tmp_path, capsys):
    source = inputs(tmp_path / "in")
    key = tmp_path / "k" / "key"
    assert main(["anonymize", str(source), "--output", str(tmp_path / "out"), "--key-file", str(key),
                 "--create-key", "--quiet", "--jobs", "1"]) == 0
    assert len(dicom_files(tmp_path / "out")) == 2 and not (key.parent / "held").exists()
    out = capsys.readouterr().out
    [written] = [p for p in dicom_files(tmp_path / "out") if pydicom.dcmread(p).Modality == "US"]
    assert f"review   #2 {written.name}: written, NEEDS REVIEW" in out and str(source) not in out
    assert "1 needing review" in out
    page = next((key.parent / "reports").rglob("report.html")).read_text()
    assert "Written, but needing review (1)" in page and str(source / "us_with_text.dcm") in page


def test_workers_are_not_forked_from_a_process_that_ran_the_detector(tmp_path):
    """onnxruntime's thread pools do not survive a fork: a second run with --jobs 2 in a process that
    already ran the detector (Slicer, a Python console) would hang; it runs the files itself instead."""
    from DicomDeidentifyLib import pixel_detector
    pixel_detector._rapidocr()
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(2):
        save(burned_in_dataset(rows=160, columns=320), folder / f"{n}.dcm")
    run = deidentify_folder([folder], tmp_path / "out", DeidentifyOptions(clean_pixel_data=True),
                            key_file=tmp_path / "k" / "key", create_key=True, jobs=2)
    assert [(r.status, r.pixel["proven"]) for r in run.summary.results] == [("written", True)] * 2
