"""Re-runs into one destination with other settings (issue 13, item 9), through the real command line.

"already present" only for the same input written with the same profile and key; a run with other
settings (other options, region rule content, tool version) replaces the earlier output (atomically:
the new file is renamed into place before the old one goes), and one destination never holds two
versions of one instance (its original SOP Instance UID: a re-export with other bytes, or two inputs
of one run), in an --output folder as in an --into side database, held copies included. Unfit fixed
values are refused by the library. Inputs: pydicom's CT_small.dcm, MR_small.dcm, RG1_J2KI/UNCI.dcm."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from DicomDeidentifyLib.batch import deidentify_paths
from DicomDeidentifyLib.errors import ProfileError
from DicomDeidentifyLib.options import DeidentifyOptions, IdentityMode
from DicomDeidentifyLib.runs import deidentify_folder
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
    assert "0 written" in again.stdout and "2 files already present" in again.stdout, again.stdout
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


def test_another_key_into_the_same_destination_is_refused(tmp_path, inputs):
    # one key per destination (review 18d, finding 2): its outputs are never mixed with another key's
    anonymize(inputs, tmp_path, "--output")
    before = sorted((tmp_path / "dest").rglob("*"))
    other = subprocess.run([str(CLI), "anonymize", str(inputs), "--output", str(tmp_path / "dest"), "--key-file",
                            str(tmp_path / "s2" / "k"), "--create-key", "--quiet"], capture_output=True, text=True,
                           timeout=300)
    assert other.returncode == 2 and "another key" in other.stderr and other.stdout == "", other.stderr
    assert sorted((tmp_path / "dest").rglob("*")) == before and not (tmp_path / "s2").exists()


# -- one version per instance, not per input's bytes (review F1) ---------------------------------------------

@pytest.fixture
def exports(tmp_path):
    """CT_small with an institution, saved twice: the second differs only in its meta's Implementation
    Version Name (the same instance re-exported by an upgraded PACS: other bytes)."""
    ds = pydicom.dcmread(data_file("CT_small.dcm"))
    ds.InstitutionName = "Shelbyville General Hospital"
    first, second = tmp_path / "in1", tmp_path / "in2"
    first.mkdir(), second.mkdir()
    ds.save_as(first / "ct.dcm")
    ds.file_meta.ImplementationVersionName = "PACS_2_0"
    ds.save_as(second / "ct.dcm")
    assert (first / "ct.dcm").read_bytes() != (second / "ct.dcm").read_bytes()
    return first, second


@WHERE
def test_a_reexport_of_an_instance_replaces_its_earlier_version(tmp_path, exports, where):
    first, second = exports
    weaker = anonymize(first, tmp_path, where, "--retain-institution-identity", "--retain-dates", "full")
    assert "1 written" in weaker.stdout, weaker.stdout
    assert [ds.InstitutionName for ds in instances(tmp_path / "dest")] == ["Shelbyville General Hospital"]
    stricter = anonymize(second, tmp_path, where)   # other bytes, the same instance, the default profile
    assert "1 written" in stricter.stdout and "already present" not in stricter.stdout, stricter.stdout
    outputs = instances(tmp_path / "dest")
    assert len(outputs) == 1, [ds.SOPInstanceUID for ds in outputs]
    assert outputs[0].get("InstitutionName", "") != "Shelbyville General Hospital"
    assert outputs[0].get("StudyDate", "") != "20040119"
    again = anonymize(second, tmp_path, where)   # the same bytes, the same settings: found
    assert "0 written" in again.stdout and "already present" in again.stdout, again.stdout
    back = anonymize(first, tmp_path, where)   # the first export, default profile: written, replacing
    assert "1 written" in back.stdout, back.stdout
    assert len(instances(tmp_path / "dest")) == 1
    assert not [d for d in (tmp_path / "dest").rglob("*") if d.is_dir() and not any(d.iterdir())]


@WHERE
def test_two_inputs_of_one_run_that_are_one_instance_leave_one_output(tmp_path, where):
    # pydicom's RG1 in JPEG 2000 and uncompressed: one SOP Instance UID, two transfer syntaxes
    names = ("RG1_J2KI.dcm", "RG1_UNCI.dcm")
    folder = tmp_path / "in"
    folder.mkdir()
    for name in names:
        (folder / name).write_bytes(data_file(name).read_bytes())
    assert len({pydicom.dcmread(folder / name, stop_before_pixels=True).SOPInstanceUID for name in names}) == 1
    # one job: which of the two is recorded first, and so kept, follows the order workers finish in; with
    # two, a re-run may keep the other one (still one version: asserted), and "already present" would vary
    result = anonymize(folder, tmp_path, where, "--jobs", "1")
    assert "1 written" in result.stdout, result.stdout
    assert "another file of this run is the same instance" in result.stdout, result.stdout
    assert len(instances(tmp_path / "dest")) == 1
    again = anonymize(folder, tmp_path, where, "--jobs", "1")   # the one written found (held: written anew)
    assert "another file of this run is the same instance" in again.stdout, again.stdout
    if where == "--output":
        assert "0 written" in again.stdout and "already present" in again.stdout, again.stdout
    assert len(instances(tmp_path / "dest")) == 1
    for _ in range(2):   # two jobs: whichever is kept, one version only
        anonymize(folder, tmp_path, where, "--jobs", "2")
        assert len(instances(tmp_path / "dest")) == 1


def test_a_replaced_held_copy_leaves_no_folder_and_no_index_entry(tmp_path, exports):
    first, _ = exports
    anonymize(first, tmp_path, "--into", "--retain-institution-identity")   # a kept value: held back
    pending, index = tmp_path / "s" / "held" / "pending", tmp_path / "s" / "held" / "pending.json"
    held = list(pending.rglob("*.dcm"))
    assert len(held) == 1 and [e["output"] for e in json.loads(index.read_text())] == [str(held[0])]
    released = anonymize(first, tmp_path, "--into")   # nothing kept: released into the side database
    assert "1 written" in released.stdout, released.stdout
    assert len(list((tmp_path / "dest").rglob("*.dcm"))) == 1
    assert list(pending.rglob("*")) == []   # the held copy's patient, study and series folders went with it
    assert json.loads(index.read_text()) == []


# -- the name's settings cover what changes the output (review F2) -------------------------------------------

def test_an_edited_rule_file_writes_anew_and_replaces(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ct.dcm").write_bytes(data_file("CT_small.dcm").read_bytes())
    rules = tmp_path / "rules.json"
    rules.write_text('{"rules": []}')
    flags = ("--clean-pixel-data", "--pixel-rules", rules)
    assert "1 written" in anonymize(folder, tmp_path, "--output", *flags).stdout
    same = anonymize(folder, tmp_path, "--output", *flags)
    assert "0 written" in same.stdout and "already present" in same.stdout, same.stdout
    rules.write_text('{"rules": [{"name": "name-box", "when": {"Modality": {"equals": "CT"}}, '
                     '"regions": [[0, 0, 64, 16]]}]}')   # the same path, another content
    edited = anonymize(folder, tmp_path, "--output", *flags)
    assert "1 written" in edited.stdout and "already present" not in edited.stdout, edited.stdout
    [output] = instances(tmp_path / "dest")   # the earlier version replaced by one with the rule's region blanked
    before, after = pydicom.dcmread(folder / "ct.dcm").pixel_array, output.pixel_array
    assert len(set(before[:16, :64].ravel())) > 1 and set(after[:16, :64].ravel()) == {after.min()}
    assert (after[16:] == before[16:]).all()


def test_another_version_of_the_tool_writes_anew_and_replaces(tmp_path, inputs):
    assert "2 written" in anonymize(inputs, tmp_path, "--output").stdout
    library = Path(__import__("DicomDeidentifyLib").__file__).parent
    copy = tmp_path / "lib" / "DicomDeidentifyLib"
    shutil.copytree(library, copy, ignore=shutil.ignore_patterns("__pycache__"))
    init = copy / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "9.9.9+upgrade-'))

    def upgraded():
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy.parent), os.environ.get("PYTHONPATH", "")])}
        result = subprocess.run([sys.executable, "-m", "DicomDeidentifyLib", "anonymize", inputs, "--output",
                                 tmp_path / "dest", "--key-file", tmp_path / "s" / "k", "--quiet"],
                                capture_output=True, text=True, timeout=300, env=env)
        assert result.returncode in (0, 1), result.stderr
        return result

    version = subprocess.run([sys.executable, "-m", "DicomDeidentifyLib", "--version"], capture_output=True,
                             text=True, env={**os.environ, "PYTHONPATH": str(copy.parent)})
    assert "9.9.9+upgrade-" in version.stdout, version.stdout + version.stderr
    first = upgraded()
    assert "2 written" in first.stdout and "already present" not in first.stdout, first.stdout
    assert len(instances(tmp_path / "dest")) == 2
    again = upgraded()
    assert "0 written" in again.stdout and "2 files already present" in again.stdout, again.stdout


# -- unfit fixed values refused by the library, not only the command line (review F7) ------------------------

@pytest.mark.parametrize("name, patient_id, message", [
    ("Doe\\Jane", "X", "fixed_patient_name holds a backslash, which separates values in DICOM: give another value"),
    ("Doe^Jane\x1b$B", "X", "fixed_patient_name holds a control character: give another value"),
    ("Doe^Jane", "X" * 80, "fixed_patient_id is longer than 64 characters: give another value"),
])
def test_unfit_fixed_values_are_refused_by_deidentify_folder_before_anything(tmp_path, inputs, name, patient_id,
                                                                              message):
    options = DeidentifyOptions(identity=IdentityMode.FIXED, fixed_patient_name=name, fixed_patient_id=patient_id)
    with pytest.raises(ProfileError) as refused:
        deidentify_folder([inputs], tmp_path / "dest", options, key_file=tmp_path / "s" / "k", create_key=True)
    assert str(refused.value) == message
    assert not (tmp_path / "dest").exists() and not (tmp_path / "s").exists()   # no key, no folder, no file
    with pytest.raises(ProfileError):   # the lower-level entry point too
        deidentify_paths([inputs], tmp_path / "dest", options, b"k" * 32)
    assert not (tmp_path / "dest").exists()
    # the same values under pseudonyms are not used: nothing to refuse
    options.identity = IdentityMode.PSEUDONYM
    assert options.fixed_value_problems() == []
