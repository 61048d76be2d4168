"""Re-runs into one destination with other settings (issue 13, item 9), through the real command line.

"already present" only for the same input written with the same profile and key; a run with other
settings replaces the earlier output (atomically: the new file is renamed into place before the old
one goes), and one destination never holds two versions of one input's instance, in an --output
folder as in an --into side database. Inputs: pydicom's CT_small.dcm and MR_small.dcm."""
import os
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from support.data import data_file

CLI = Path(sys.executable).parent / "dicom-deidentify"
NAMES = ("CT_small.dcm", "MR_small.dcm")


def run(*args):
    result = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=300,
                            env={**os.environ})
    assert result.returncode in (0, 1), result.stderr
    return result


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in NAMES:
        (folder / name).write_bytes(data_file(name).read_bytes())
    return folder


def instances(destination: Path) -> list:
    """Every version the destination holds: its DICOM files and, for a side database, those held back
    from it for review (beside the key, in held/: a file keeping a value by an option waits there)."""
    held = destination.parent / "s" / "held"
    return [pydicom.dcmread(p) for p in sorted([*destination.rglob("*.dcm"), *held.rglob("*.dcm")])]


def anonymize(inputs, tmp_path, where, *flags):
    return run("anonymize", inputs, where, tmp_path / "dest", "--key-file", tmp_path / "s" / "k", "--create-key",
               "--quiet", *flags)


WHERE = pytest.mark.parametrize("where", ["--output", "--into"])


@WHERE
def test_a_stricter_profile_replaces_the_weaker_output(tmp_path, inputs, where):
    weaker = anonymize(inputs, tmp_path, where, "--retain-institution-identity", "--retain-dates", "full")
    assert "2 written" in weaker.stdout, weaker.stdout
    institutions = {pydicom.dcmread(inputs / name).get("InstitutionName", "") for name in NAMES} - {""}
    originals = {pydicom.dcmread(inputs / name).StudyDate for name in NAMES}
    first = instances(tmp_path / "dest")
    assert len(first) == 2 and {ds.get("InstitutionName", "") for ds in first} & institutions
    assert {ds.StudyDate for ds in first} == originals
    stricter = anonymize(inputs, tmp_path, where)
    assert "already present" not in stricter.stdout and "2 written" in stricter.stdout, stricter.stdout
    outputs = instances(tmp_path / "dest")
    assert len(outputs) == 2   # the weaker ones are gone: one version per input
    for ds in outputs:
        assert ds.get("InstitutionName", "") not in institutions and ds.get("StudyDate", "") not in originals
    again = anonymize(inputs, tmp_path, where)   # the same settings: found, nothing written
    assert "0 written" in again.stdout and again.stdout.count("already present") == 2, again.stdout
    assert len(instances(tmp_path / "dest")) == 2


@WHERE
def test_retain_uids_then_a_default_run_leaves_one_copy_of_each_instance(tmp_path, inputs, where):
    anonymize(inputs, tmp_path, where, "--retain-uids")
    kept = {ds.SOPInstanceUID for ds in instances(tmp_path / "dest")}
    assert kept == {pydicom.dcmread(inputs / name).SOPInstanceUID for name in NAMES}
    result = anonymize(inputs, tmp_path, where)
    assert "2 written" in result.stdout, result.stdout
    outputs = instances(tmp_path / "dest")
    assert len(outputs) == 2 and not {ds.SOPInstanceUID for ds in outputs} & kept
    # the earlier run's study and series folders went with its files
    assert not [d for d in (tmp_path / "dest").rglob("*") if d.is_dir() and not any(d.iterdir())]
    back = anonymize(inputs, tmp_path, where, "--retain-uids")   # and back: again one copy each
    assert "2 written" in back.stdout, back.stdout
    assert {ds.SOPInstanceUID for ds in instances(tmp_path / "dest")} == kept


def test_another_key_is_another_output_not_already_present(tmp_path, inputs):
    anonymize(inputs, tmp_path, "--output")
    other = run("anonymize", inputs, "--output", tmp_path / "dest", "--key-file", tmp_path / "s2" / "k",
                "--create-key", "--quiet")
    assert "already present" not in other.stdout and "2 written" in other.stdout, other.stdout
