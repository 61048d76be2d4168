"""The dicom-deidentify command line, run as a user runs it: a real process."""
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from DicomDeidentifyLib.destinations import OUTPUT_MARKER
from support.data import data_file, read, save

CLI = Path(sys.executable).parent / "dicom-deidentify"


def run(*args, cwd=None, env=None):
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "in" / "DOE_JOHN"      # folder names carry PHI in real life
    folder.mkdir(parents=True)
    for name in ("CT_small.dcm", "MR_small.dcm", "MR_truncated.dcm"):
        (folder / name).write_bytes(data_file(name).read_bytes())
    (folder / "notes.txt").write_text("Doe John, MRN 12345\n")
    return tmp_path / "in"


def tree_digest(folder):
    return {p: p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def test_anonymize_a_folder(tmp_path, inputs):
    before = tree_digest(inputs)
    key = tmp_path / "secrets" / "pseudonym.key"
    result = run("anonymize", inputs, "--output", tmp_path / "out", "--key-file", key, "--create-key")
    assert result.returncode == 1, result.stderr           # one file is truncated: non-zero exit
    assert "failed   #" in result.stdout and ": truncated" in result.stdout
    assert "skipped  #" in result.stdout and ": not a DICOM file" in result.stdout
    assert "DOE_JOHN" not in result.stdout   # input paths only with --verbose (they name the patient)
    assert "4 files" in result.stdout and "2 written, 1 skipped, 1 failed" in result.stdout
    assert "file/s" in result.stderr                        # the progress bar
    assert tree_digest(inputs) == before                     # inputs never touched
    outputs = [p for p in (tmp_path / "out").rglob("*") if p.is_file() and p.name != OUTPUT_MARKER]
    assert len(outputs) == 2 and all(p.suffix == ".dcm" for p in outputs)
    assert (tmp_path / "out" / OUTPUT_MARKER).is_file()     # what marks the folder as a destination, any key
    assert not any("DOE" in str(p) or "CT_small" in str(p) for p in outputs)   # no input names reused
    # secrets: owner-only, beside the key, never in the output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    reports = list((key.parent / "reports").glob("*/report.json"))
    assert len(reports) == 1 and stat.S_IMODE(reports[0].stat().st_mode) == 0o600
    assert (reports[0].parent / "report.html").exists()
    report = json.loads(reports[0].read_text())
    assert report["totals"]["failed"] == 1 and report["profile"]["dates"] == "remove"
    assert report["tables"]["editions"].startswith("2023b")
    key_hex = key.read_text().strip().encode()
    for output in outputs:
        data = output.read_bytes()
        assert key_hex not in data and b"Doe" not in data and b"CT1_J2KI" not in data


def test_a_second_run_resumes_and_writes_nothing_twice(tmp_path, inputs):
    key = tmp_path / "secrets" / "pseudonym.key"
    first = run("anonymize", inputs, "--output", tmp_path / "out", "--key-file", key, "--create-key")
    outputs = tree_digest(tmp_path / "out")
    second = run("anonymize", inputs, "--output", tmp_path / "out", "--key-file", key)
    assert "0 written" in second.stdout and "2 files already present" in second.stdout, second.stdout
    assert tree_digest(tmp_path / "out") == outputs
    assert first.returncode == second.returncode == 1


def test_dry_run_writes_no_dicom_file(tmp_path, inputs):
    result = run("anonymize", inputs, "--output", tmp_path / "out", "--key-file", tmp_path / "s" / "k",
                 "--create-key", "--dry-run")
    assert "2 would be written" in result.stdout
    assert not (tmp_path / "out").exists()


def test_a_missing_key_is_an_error_not_a_new_key(tmp_path, inputs):
    key = tmp_path / "secrets" / "pseudonym.key"
    key.parent.mkdir()
    result = run("anonymize", inputs, "--output", tmp_path / "out", "--key-file", key)
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert not key.exists() and not (tmp_path / "out").exists()


def test_secrets_inside_the_output_are_refused(tmp_path, inputs):
    result = run("anonymize", inputs, "--output", tmp_path / "out", "--key-file", tmp_path / "out" / "k",
                 "--create-key")
    assert result.returncode == 2 and "would be inside the destination folder" in result.stderr
    assert not (tmp_path / "out").exists()


def test_option_flags_and_profile_files(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    (source / "ct.dcm").write_bytes(data_file("CT_small.dcm").read_bytes())
    key = tmp_path / "s" / "k"
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"retain_uids": True, "identity": "fixed", "fixed_patient_id": "TRIAL-7"}))
    result = run("anonymize", source, "--output", tmp_path / "out", "--key-file", key, "--create-key",
                 "--profile", profile, "--retain-dates", "modified", "--retain-device-identity")
    assert result.returncode == 0, result.stdout + result.stderr
    out = pydicom.dcmread(next((tmp_path / "out").rglob("*.dcm")))
    original = read("CT_small.dcm")
    assert out.SOPInstanceUID == original.SOPInstanceUID and out.PatientID == "TRIAL-7"
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"
    assert {"113110", "113107", "113109"} <= {i.CodeValue for i in out.DeidentificationMethodCodeSequence}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"retain_everything": True}))
    result = run("anonymize", source, "--output", tmp_path / "o2", "--key-file", key, "--profile", bad)
    assert result.returncode == 2 and "unknown profile settings" in result.stderr


def test_demo_runs_on_sample_data_and_says_where_the_results_are(tmp_path):
    result = run("demo", "--workdir", tmp_path / "demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "De-identified files:" in result.stdout and "report.html" in result.stdout
    assert len(list((tmp_path / "demo" / "deidentified").rglob("*.dcm"))) >= 8


def many_inputs(folder, count):
    folder.mkdir(parents=True)
    base = read("CT_small.dcm")
    for n in range(count):
        base.SOPInstanceUID = generate_uid()
        base.PatientID = f"P{n % 7}"
        save(base, folder / f"img{n:04d}.dcm")


def test_a_run_killed_with_sigkill_resumes_without_partial_files_or_duplicates(tmp_path):
    many_inputs(tmp_path / "in", 600)
    key = tmp_path / "s" / "k"
    out = tmp_path / "out"
    process = subprocess.Popen([str(CLI), "anonymize", str(tmp_path / "in"), "--output", str(out),
                                "--key-file", str(key), "--create-key", "--jobs", "2", "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.rglob("*.dcm"))) < 50:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)   # the whole process group: parent and workers
    process.wait()
    written_before = len(list(out.rglob("*.dcm")))
    assert 0 < written_before < 600
    result = run("anonymize", tmp_path / "in", "--output", out, "--key-file", key, "--quiet")
    assert result.returncode == 0, result.stdout
    files = [p for p in out.rglob("*") if p.is_file() and p.name != OUTPUT_MARKER]
    assert not [p for p in files if p.name.endswith(".partial")]
    assert len(files) == 600
    assert len({pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in files}) == 600
    assert (f"{600 - written_before} written, {written_before} skipped ({written_before} already present, not "
            "written again), 0 failed") in result.stdout


def test_dry_run_shows_what_would_change_per_attribute_and_file(tmp_path, inputs):
    result = run("anonymize", inputs, "--output", tmp_path / "out", "--key-file", tmp_path / "s" / "k",
                 "--create-key", "--dry-run", "--retain-device-identity", "--verbose")   # input paths too
    assert "Would change" in result.stdout and "PatientBirthDate:" in result.stdout
    assert "Would need review:" in result.stdout and "kept by option retain_device_identity" in result.stdout
    assert "CT_small.dcm ->" in result.stdout and "dry-run" in result.stdout
    assert not (tmp_path / "out").exists()


def test_a_toml_profile(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    (source / "ct.dcm").write_bytes(data_file("CT_small.dcm").read_bytes())
    profile = tmp_path / "profile.toml"
    profile.write_text('retain_patient_characteristics = true\ndates = "full"\n')
    result = run("anonymize", source, "--output", tmp_path / "out", "--key-file", tmp_path / "s" / "k",
                 "--create-key", "--profile", profile)
    assert result.returncode == 0, result.stderr
    out = pydicom.dcmread(next((tmp_path / "out").rglob("*.dcm")))
    assert out.StudyDate == read("CT_small.dcm").StudyDate and out.PatientSex == read("CT_small.dcm").PatientSex


def test_ctrl_c_stops_cleanly_and_the_next_run_resumes(tmp_path):
    many_inputs(tmp_path / "in", 400)
    key, out = tmp_path / "s" / "k", tmp_path / "out"
    process = subprocess.Popen([str(CLI), "anonymize", str(tmp_path / "in"), "--output", str(out),
                                "--key-file", str(key), "--create-key", "--jobs", "2", "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.rglob("*.dcm"))) < 30:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "cancelled" in stderr
    assert not [p for p in out.rglob("*") if p.name.endswith(".partial")]
    result = run("anonymize", tmp_path / "in", "--output", out, "--key-file", key, "--quiet")
    assert result.returncode == 0 and len(list(out.rglob("*.dcm"))) == 400


def test_the_html_report_groups_private_attributes_and_lists_failures(tmp_path, inputs):
    key = tmp_path / "secrets" / "k"
    run("anonymize", inputs, "--output", tmp_path / "out", "--key-file", key, "--create-key")
    page = next((key.parent / "reports").glob("*/report.html")).read_text()
    assert "(0009,xxxx) private" in page and "(0009,1001)" not in page.split("What changed")[1].split("Before")[0]
    assert "MR_truncated.dcm" in page and "truncated" in page
    assert "For key holders only" in page


FEMALE_ENDINGS, MALE_ENDINGS = ("a", "ia", "elle", "ine", "ara", "ena"), ("o", "an", "us", "ek", "or", "im")


def test_keep_sex_shapes_the_pseudonym_and_patients_sex_follows_the_profile(tmp_path):
    """--keep-sex (issue 18): the given name follows Patient's Sex; the attribute itself is emptied by the basic
    profile (Z) and kept only under Retain Patient Characteristics (K), and the command says so."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("MR_small.dcm", "JPEG2000.dcm"):   # F and M
        (inputs / name).write_bytes(data_file(name).read_bytes())
    key = tmp_path / "s" / "k"
    help_text = run("anonymize", "--help").stdout
    assert "--keep-sex" in help_text and "Patient's Sex itself is kept only with" in " ".join(help_text.split())

    def anonymize_with(*flags):
        output = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
        result = run("anonymize", inputs, "--output", output, "--key-file", key, "--create-key", *flags)
        assert result.returncode == 0, result.stderr
        written = {str(ds.Modality): ds for ds in map(pydicom.dcmread, map(str, output.rglob("*.dcm")))}
        assert set(written) == {"MR", "NM"}
        return result, written["MR"], written["NM"]

    result, female, male = anonymize_with("--keep-sex")
    assert "note: --keep-sex: pseudonyms follow Patient's Sex, but the attribute itself is emptied" in result.stderr
    assert str(female.PatientName).endswith(FEMALE_ENDINGS) and str(male.PatientName).endswith(MALE_ENDINGS)
    assert female.PatientSex == "" and male.PatientSex == ""   # Z: present, zero length
    codes = [c.CodeValue for c in female.DeidentificationMethodCodeSequence]
    assert "113108" not in codes

    result, female_kept, male_kept = anonymize_with("--keep-sex", "--retain-patient-characteristics")
    assert "note: --keep-sex" not in result.stderr
    assert (female_kept.PatientSex, male_kept.PatientSex) == ("F", "M")
    assert "113108" in [c.CodeValue for c in female_kept.DeidentificationMethodCodeSequence]
    assert female_kept.PatientName == female.PatientName and male_kept.PatientName == male.PatientName

    _, female_plain, _ = anonymize_with("--retain-patient-characteristics")   # the option, not --keep-sex, keeps it
    assert female_plain.PatientSex == "F" and female_plain.PatientID == female.PatientID
