"""Side database, linkage store and runs that stay consistent: real SQLite, real processes."""
import csv
import datetime
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid

from DicomDeidentifyLib import DeidentifyOptions
from DicomDeidentifyLib.linkage import LinkageStore, linkage_path
from DicomDeidentifyLib.runs import SIDE_DATABASE_MARKER, deidentify_folder
from support.data import ct_study, read, save

CLI = Path(sys.executable).parent / "dicom-deidentify"


def run(*args, check_ok=True):
    result = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=300)
    if check_ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def study(folder: Path, patient_id: str, name: str, study_date: str, count: int = 3, birth="19700101"):
    return ct_study(folder, patient_id, name, study_date, count, birth)


def outputs(side_db: Path):
    return sorted(p for p in side_db.rglob("*.dcm"))


def test_same_patient_in_two_runs_and_processes_gets_the_same_pseudonym_uids_and_offset(tmp_path):
    key = tmp_path / "secrets" / "pseudonym.key"
    first = study(tmp_path / "in1", "MRN-77", "Doe^John", "20240110")
    study(tmp_path / "in2", "MRN-77", "DOE^JOHNNY", "20240310")          # later study, name spelled otherwise
    run("anonymize", tmp_path / "in1", "--into", tmp_path / "side", "--key-file", key, "--create-key",
        "--retain-dates", "modified", "--jobs", "2")
    run("anonymize", tmp_path / "in2", "--into", tmp_path / "side", "--key-file", key,
        "--retain-dates", "modified", "--jobs", "1")
    heads = [pydicom.dcmread(p, stop_before_pixels=True) for p in outputs(tmp_path / "side")]
    assert len(heads) == 6
    assert len({h.PatientID for h in heads}) == 1 and len({str(h.PatientName) for h in heads}) == 1
    dates = sorted({h.StudyDate for h in heads})
    day = lambda t: datetime.date(int(t[:4]), int(t[4:6]), int(t[6:]))
    assert (day(dates[1]) - day(dates[0])).days == (datetime.date(2024, 3, 10) - datetime.date(2024, 1, 10)).days
    # the same input in another process and another destination: the same UIDs
    run("anonymize", first[0], "--output", tmp_path / "elsewhere", "--key-file", key, "--retain-dates", "modified")
    again = pydicom.dcmread(outputs(tmp_path / "elsewhere")[0])
    assert again.SOPInstanceUID in {h.SOPInstanceUID for h in heads}
    assert (tmp_path / "side" / SIDE_DATABASE_MARKER).exists()


def test_many_patients_never_collide_in_the_linkage(tmp_path):
    ds = read("CT_small.dcm")
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(300):
        ds.PatientID, ds.PatientName, ds.SOPInstanceUID = f"P{n:05d}", f"Patient^{n}", generate_uid()
        save(ds, folder / f"{n}.dcm")
    result = deidentify_folder([folder], tmp_path / "side", key_file=tmp_path / "s" / "k", create_key=True,
                               side_database=True, jobs=2)
    assert result.summary.count("written") == 300
    db = sqlite3.connect(result.linkage)
    rows = db.execute("SELECT pseudonym_id, original_patient_id FROM patients").fetchall()
    assert len(rows) == 300 and len({r[0] for r in rows}) == 300
    assert {r[1] for r in rows} == {f"P{n:05d}" for n in range(300)}


def test_a_killed_run_resumes_with_the_linkage_consistent_with_the_files(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    ds = read("CT_small.dcm")
    for n in range(500):
        ds.PatientID, ds.SOPInstanceUID = f"P{n % 9}", generate_uid()
        save(ds, folder / f"{n}.dcm")
    key, side = tmp_path / "s" / "k", tmp_path / "side"
    process = subprocess.Popen([str(CLI), "anonymize", str(folder), "--into", str(side), "--key-file", str(key),
                                "--create-key", "--jobs", "2", "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(outputs(side)) < 60:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert 0 < len(outputs(side)) < 500
    run("anonymize", folder, "--into", side, "--key-file", key, "--quiet")
    files = [p for p in side.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.endswith(".partial")]
    written = outputs(side)
    assert len(written) == 500
    assert len({pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in written}) == 500
    db = sqlite3.connect(linkage_path(key))
    recorded = {row[0] for row in db.execute(
        "SELECT output FROM files WHERE status = 'written' OR reason LIKE 'already present%'")}
    assert recorded == {str(p) for p in written}   # every file on disk is in the linkage, and only those
    uids = dict(db.execute("SELECT new, original FROM uids").fetchall())
    for path in written[:50]:
        assert pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID in uids


def test_two_concurrent_runs_into_one_side_database(tmp_path):
    key, side = tmp_path / "s" / "k", tmp_path / "side"
    sets = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        ds = read("CT_small.dcm")
        for n in range(150):
            ds.PatientID, ds.SOPInstanceUID = f"{name}{n % 20}", generate_uid()
            save(ds, folder / f"{n}.dcm")
        sets.append(folder)
    run("anonymize", sets[0], "--output", tmp_path / "warmup", "--key-file", key, "--create-key", "--dry-run")
    processes = [subprocess.Popen([str(CLI), "anonymize", str(folder), "--into", str(side), "--key-file", str(key),
                                   "--jobs", "2", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for folder in sets]
    results = [p.communicate(timeout=300) for p in processes]
    for process, (out, err) in zip(processes, results):
        assert process.returncode == 0, out + err
        assert "locked" not in out + err
    db = sqlite3.connect(linkage_path(key))
    assert db.execute("SELECT COUNT(*) FROM files WHERE status = 'written'").fetchone()[0] == 300
    assert db.execute("SELECT COUNT(*) FROM patients").fetchone()[0] == 40
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT original) FROM uids").fetchone()[0] == \
        db.execute("SELECT COUNT(DISTINCT original) FROM uids").fetchone()[0]
    assert len(outputs(side)) == 300


def originals_of(paths):
    values = set()
    for path in paths:
        ds = pydicom.dcmread(path)
        values |= {str(ds.PatientName), ds.PatientID, ds.SOPInstanceUID, ds.StudyInstanceUID, ds.PatientBirthDate}
    return {v for v in values if v}


def test_linkage_off_stores_no_original_value(tmp_path):
    inputs = study(tmp_path / "Doe_John_folder", "MRN-4242", "Zebulon^Quincy", "20240110")
    key = tmp_path / "s" / "k"
    run("anonymize", tmp_path / "Doe_John_folder", "--into", tmp_path / "side", "--key-file", key, "--create-key",
        "--no-linkage")
    store = [p for p in key.parent.iterdir() if p.name.startswith("linkage.sqlite")]
    data = b"".join(p.read_bytes() for p in store)
    for value in originals_of(inputs) | {"Doe_John_folder"}:
        assert value.encode() not in data, value
    db = sqlite3.connect(linkage_path(key))
    assert db.execute("SELECT COUNT(*) FROM patients WHERE pseudonym_id != ''").fetchone()[0] == 1
    lookup = run("lookup", pydicom.dcmread(outputs(tmp_path / "side")[0]).PatientID, "--key-file", key,
                 check_ok=False)
    assert lookup.returncode == 0 and "Zebulon" not in lookup.stdout   # found, but holds no original


def test_secrets_are_owner_only_the_side_database_holds_no_original_and_lookup_maps_back(tmp_path):
    inputs = study(tmp_path / "in", "MRN-5151", "Xavier^Yolanda", "20240110") + \
        study(tmp_path / "in", "MRN-6262", "Quentin^Rosalind", "20240212")
    key, side = tmp_path / "secrets" / "pseudonym.key", tmp_path / "side"
    run("anonymize", tmp_path / "in", "--into", side, "--key-file", key, "--create-key")
    for path in (key, linkage_path(key)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    originals = originals_of(inputs)
    for path in side.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for value in originals:
                assert value.encode() not in data, (path, value)
    assert {p.suffix for p in side.rglob("*") if p.is_file()} == {".dcm", ".json"}
    for path in outputs(side):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        answer = run("lookup", ds.PatientID, "--into", side, "--key-file", key).stdout
        assert "PHI" in answer and ("MRN-5151" in answer or "MRN-6262" in answer)
        uid_answer = run("lookup", ds.SOPInstanceUID, "--key-file", key).stdout
        assert "original_uid=" in uid_answer and uid_answer.split("original_uid=")[1].strip() in originals


def test_lookup_without_a_linkage_store_says_so(tmp_path):
    result = run("lookup", "ANON123", "--key-file", tmp_path / "nothing" / "k", check_ok=False)
    assert result.returncode == 2 and "no linkage store" in result.stderr   # a usage problem: the wrong key


def test_export_mapping_writes_the_midi_b_csv_files(tmp_path):
    inputs = study(tmp_path / "in", "MRN-9", "Doe^Jane", "20240110")
    key, side = tmp_path / "s" / "k", tmp_path / "side"
    run("anonymize", tmp_path / "in", "--into", side, "--key-file", key, "--create-key")
    refused = run("export-mapping", "--into", side, "--output", side / "maps", "--key-file", key, check_ok=False)
    assert refused.returncode == 2 and not (side / "maps").exists()
    run("export-mapping", "--into", side, "--output", tmp_path / "maps", "--key-file", key)
    with open(tmp_path / "maps" / "patid_mapping.csv") as stream:
        patients = list(csv.reader(stream))
    with open(tmp_path / "maps" / "uid_mapping.csv") as stream:
        uids = list(csv.reader(stream))
    assert patients[0] == uids[0] == ["id_old", "id_new"]
    out = pydicom.dcmread(outputs(side)[0])
    assert ["MRN-9", out.PatientID] in patients
    originals = {pydicom.dcmread(p).SOPInstanceUID for p in inputs}
    assert originals <= {row[0] for row in uids[1:]}
    assert [out.SOPInstanceUID] == [row[1] for row in uids[1:] if row[1] == out.SOPInstanceUID]


def test_compare_names_every_attribute_that_changed(tmp_path):
    source = study(tmp_path / "in", "MRN-3", "Doe^Jim", "20240110", count=1)[0]
    key = tmp_path / "s" / "k"
    result = deidentify_folder([source], tmp_path / "out", key_file=key, create_key=True)
    output = Path(result.summary.results[0].output)
    compared = run("compare", source, output, "--key-file", key, "--html", tmp_path / "cmp.html").stdout
    original, new = pydicom.dcmread(source), pydicom.dcmread(output)
    for element in original:
        if element.keyword and element.VR != "SQ" and element.keyword not in new:
            assert f"removed   {element.keyword}:" in compared, element.keyword
        elif element.keyword and element.VR != "SQ" and new[element.keyword].value != element.value:
            assert f"replaced  {element.keyword}:" in compared, element.keyword
    assert "replaced  PatientName:" in compared and "removed   (0009,1001)" in compared
    assert "Doe^Jim" in (tmp_path / "cmp.html").read_text()
    folders = run("compare", tmp_path / "in", tmp_path / "out", "--key-file", key).stdout
    assert "replaced  SOPInstanceUID:" in folders


def test_the_python_api_reports_progress_and_can_be_cancelled(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    ds = read("CT_small.dcm")
    for n in range(40):
        ds.SOPInstanceUID = generate_uid()
        save(ds, folder / f"{n}.dcm")
    cancel, seen = threading.Event(), []

    def progress(done, total, result):
        seen.append((done, total))
        if done == 5:
            cancel.set()

    result = deidentify_folder([folder], tmp_path / "side", DeidentifyOptions(), key_file=tmp_path / "s" / "k",
                               create_key=True, side_database=True, progress=progress, cancel=cancel)
    assert result.summary.cancelled and len(result.summary.results) == 5
    assert seen[0] == (1, 40) and len(outputs(tmp_path / "side")) == 5
    store = LinkageStore(result.linkage)
    assert store.db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 5
    assert result.report_html.exists()


def test_key_export_and_import_move_the_same_key(tmp_path):
    key = tmp_path / "a" / "k"
    source = study(tmp_path / "in", "M1", "A^B", "20240101", 1)[0]
    run("anonymize", source, "--output", tmp_path / "o1", "--key-file", key, "--create-key")
    run("key", "export", tmp_path / "moved.key", "--key-file", key)
    assert stat.S_IMODE((tmp_path / "moved.key").stat().st_mode) == 0o600
    other = tmp_path / "b" / "k"
    run("key", "import", tmp_path / "moved.key", "--key-file", other)
    run("anonymize", source, "--output", tmp_path / "o2", "--key-file", other)
    assert pydicom.dcmread(outputs(tmp_path / "o1")[0]).SOPInstanceUID == \
        pydicom.dcmread(outputs(tmp_path / "o2")[0]).SOPInstanceUID
    clash = tmp_path / "c" / "k"
    run("anonymize", source, "--output", tmp_path / "o3", "--key-file", clash, "--create-key")
    refused = run("key", "import", tmp_path / "moved.key", "--key-file", clash, check_ok=False)
    assert refused.returncode == 2 and "another key" in refused.stderr
    not_a_key = run("key", "import", "/dev/null", "--key-file", tmp_path / "d" / "k", check_ok=False)
    assert not_a_key.returncode == 2 and not (tmp_path / "d" / "k").exists()


def test_slicer_s_own_dicom_database_folder_is_never_a_destination(tmp_path):
    database = tmp_path / "SlicerDICOMDatabase"
    database.mkdir()
    (database / "ctkDICOM.sql").write_bytes(b"SQLite format 3\x00")
    source = study(tmp_path / "in", "M1", "A^B", "20240101", 1)[0]
    refused = run("anonymize", source, "--into", database, "--key-file", tmp_path / "s" / "k", "--create-key",
                  check_ok=False)
    assert refused.returncode == 2 and "DICOM database of Slicer's" in refused.stderr
    assert sorted(p.name for p in database.iterdir()) == ["ctkDICOM.sql"]
    # a side database that Slicer has indexed (it then holds a ctkDICOM.sql too) stays usable
    run("anonymize", source, "--into", tmp_path / "side", "--key-file", tmp_path / "s" / "k", "--create-key")
    (tmp_path / "side" / "ctkDICOM.sql").write_bytes(b"SQLite format 3\x00")
    run("anonymize", source, "--into", tmp_path / "side", "--key-file", tmp_path / "s" / "k")


# -- review N2: only a new, empty or marked folder becomes a side database --------------------------------
def test_the_users_main_database_is_never_marked_and_the_runs_refusal_stays_reachable(tmp_path):
    import pytest
    from DicomDeidentifyLib.errors import SafeError, SideDatabaseRefused
    from DicomDeidentifyLib.runs import mark_side_database, side_database_refusal
    main = tmp_path / "SlicerDICOMDatabase"          # Slicer's main database, full of identified files
    (main / "dicom").mkdir(parents=True)
    (main / "ctkDICOM.sql").write_bytes(b"SQLite format 3\x00")
    before = sorted(p.relative_to(main) for p in main.rglob("*"))
    source = study(tmp_path / "in", "N2", "Doe^Jane", "20240101", 1)
    for recorded in (None, str(main)):   # chosen by mistake, whether or not Slicer records it
        with pytest.raises(SideDatabaseRefused) as refused:
            mark_side_database(main, main_database=recorded)   # what ensureSideDatabase calls first
        assert "main DICOM database" in str(refused.value) or "ctkDICOM.sql" in str(refused.value)
        assert isinstance(refused.value, SafeError) and str(main) not in str(refused.value)
    # ... so that the run's own check still fires when the folder is used as a side database
    with pytest.raises(SideDatabaseRefused, match="DICOM database of Slicer's"):
        deidentify_folder(source, main, key_file=tmp_path / "s" / "k", create_key=True, side_database=True)
    assert sorted(p.relative_to(main) for p in main.rglob("*")) == before and not (main / SIDE_DATABASE_MARKER).exists()
    # a new (not yet existing) folder that Slicer records as its database is refused too
    recorded = tmp_path / "new-main"
    assert "main DICOM database" in side_database_refusal(recorded, main_database=str(recorded))
    # a folder with other content
    other = tmp_path / "Documents"
    other.mkdir()
    (other / "letter.txt").write_text("x")
    with pytest.raises(SideDatabaseRefused, match="already holds files"):
        mark_side_database(other)
    assert sorted(p.name for p in other.iterdir()) == ["letter.txt"]
    # accepted: a new folder, an empty one, and a side database Slicer has indexed
    for fine in (tmp_path / "new" / "side", tmp_path / "empty"):
        if fine.name == "empty":
            fine.mkdir()
        assert side_database_refusal(fine, main_database=str(main)) is None
        mark_side_database(fine, main_database=str(main))
        (fine / "ctkDICOM.sql").write_bytes(b"SQLite format 3\x00")
        assert side_database_refusal(fine, main_database=str(main)) is None


def test_a_side_database_inside_a_dicom_database_of_slicers_is_refused(tmp_path):
    """A new folder inside the main database, or inside any unmarked folder with ctkDICOM.sql, at any
    depth, is refused before anything is written (review 3, R3); one beside it is fine."""
    import pytest
    from DicomDeidentifyLib.errors import SideDatabaseRefused
    from DicomDeidentifyLib.runs import mark_side_database, side_database_refusal
    main = tmp_path / "SlicerDICOMDatabase"
    main.mkdir()
    other = tmp_path / "OtherDatabase"
    (other / "dicom").mkdir(parents=True)
    (other / "ctkDICOM.sql").write_bytes(b"SQLite format 3\x00")
    for folder, recorded in ((main / "deid", str(main)), (main / "a" / "b", str(main)), (other / "deid", None),
                             (other / "dicom" / "x", None)):
        assert "inside a DICOM database" in side_database_refusal(folder, main_database=recorded)
        with pytest.raises(SideDatabaseRefused):
            mark_side_database(folder, main_database=recorded)
        assert not folder.exists()
    assert side_database_refusal(tmp_path / "side", main_database=str(main)) is None
