"""The import controller: what "Anonymize on import" does, without Slicer, on real files.
Originals only read; released files in the side database; files with kept values held back
for review until decisions cover them; decisions saved into the profile apply by themselves."""
import hashlib
import json
import stat
import threading
from pathlib import Path

import pydicom

from DicomDeidentifyLib import DeidentifyOptions
from DicomDeidentifyLib.import_controller import ImportController
from DicomDeidentifyLib.linkage import LinkageStore, linkage_path
from DicomDeidentifyLib.review import EDIT, KEEP, REMOVE, ReviewDecision, apply_decisions, grouped
from support.data import ct_study, read, save

ORIGINAL_VALUES = [b"Doe^Jane", b"MRN-IMPORT-1", b"19650304", b"Rm 4 Dr Wu"]


def patient_files(folder: Path, count=3, patient_id="MRN-IMPORT-1", name="Doe^Jane"):
    """CT images of one patient with a free-text station name (a staff name: one holding the
    patient's own name is refused by the output check, never held for review)."""
    return ct_study(folder, patient_id, name, count=count, birth="19650304", StationName="Rm 4 Dr Wu")


def digests(paths):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_plain_import_releases_everything_and_leaves_originals_alone(tmp_path):
    originals = patient_files(tmp_path / "cd")
    before = digests(originals)
    controller = ImportController(tmp_path / "side", key_file=tmp_path / "secrets" / "key")
    outcome = controller.import_paths([tmp_path / "cd"])
    assert len(outcome.released) == 3 and outcome.held == [] and outcome.review == []
    assert all(tmp_path / "side" in p.parents for p in outcome.released)
    assert digests(originals) == before
    for path in outcome.released:
        data = path.read_bytes()
        assert not any(value in data for value in ORIGINAL_VALUES)
    assert "3 de-identified file(s) added to the side database, 0 held back" in outcome.summary()


def test_files_with_kept_values_are_held_until_decided_then_released(tmp_path):
    patient_files(tmp_path / "cd")
    options = DeidentifyOptions(retain_device_identity=True)     # StationName stays: a person decides
    key = tmp_path / "secrets" / "key"
    controller = ImportController(tmp_path / "side", options, key_file=key)
    outcome = controller.import_paths([tmp_path / "cd"])
    assert outcome.released == [] and len(outcome.held) == 3
    assert list((tmp_path / "side").rglob("*.dcm")) == []                 # nothing unreviewed in the side database
    held_folder = key.parent / "held"
    assert all(held_folder in h.output.parents for h in outcome.held)
    for folder in (key.parent, held_folder, held_folder / "pending"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    report = json.loads(outcome.run.report_json.read_text())
    assert [f["held"] for f in report["files"]] == [True] * 3
    assert "Held back for review (not in the destination until released) (3)" in outcome.run.report_html.read_text()
    rows = {row.attribute: row for row in outcome.review}
    assert rows["StationName"].count == 3 and rows["StationName"].value == "Rm 4 Dr Wu"

    keep_others = [ReviewDecision(row.attribute, KEEP) for row in outcome.review if row.attribute != "StationName"]
    partial = controller.release(outcome, keep_others)
    assert partial == [] and len(outcome.held) == 3                       # StationName still undecided

    profile = tmp_path / "profile.json"
    released = controller.release(outcome, keep_others + [ReviewDecision("StationName", EDIT, new_value="CT 1")],
                                  save_profile_to=profile)
    assert len(released) == 3 and outcome.held == []
    for path in released:
        assert tmp_path / "side" in path.parents
        assert pydicom.dcmread(path).StationName == "CT 1"
        assert b"Dr Wu" not in path.read_bytes()
    store = LinkageStore(linkage_path(key))
    try:
        outputs = {row[0] for row in store.db.execute("SELECT output FROM files")}
    finally:
        store.close()
    assert {str(p) for p in released} <= outputs                          # the linkage follows the files

    # The decisions are in the profile: the next import of this patient is not held.
    saved = DeidentifyOptions.from_file(profile)
    assert {"attribute": "StationName", "decision": "edit", "value": "*", "new_value": "CT 1"} in saved.review_decisions
    patient_files(tmp_path / "cd2", count=2)
    second = ImportController(tmp_path / "side", saved, key_file=key).import_paths([tmp_path / "cd2"])
    assert len(second.released) == 2 and second.held == [] and second.decided_by_profile == 2
    first, again = pydicom.dcmread(released[0]), pydicom.dcmread(second.released[0])
    assert again.StationName == "CT 1"
    assert (again.PatientID, again.PatientName) == (first.PatientID, first.PatientName)   # same pseudonym


def test_cancel_mid_way_keeps_what_was_written_consistent(tmp_path):
    patient_files(tmp_path / "cd", count=30)
    cancel = threading.Event()
    seen = []

    def progress(done, total, result):
        seen.append(done)
        if done == 5:
            cancel.set()

    outcome = ImportController(tmp_path / "side", key_file=tmp_path / "k" / "key").import_paths(
        [tmp_path / "cd"], progress=progress, cancel=cancel)
    assert outcome.run.summary.cancelled
    on_disk = sorted((tmp_path / "side").rglob("*.dcm"))
    assert 5 <= len(on_disk) < 30 and sorted(outcome.released) == on_disk
    assert not list((tmp_path / "side").rglob("*.partial"))
    assert "(cancelled)" in outcome.summary()


def test_bad_files_are_reported_and_the_import_goes_on(tmp_path):
    patient_files(tmp_path / "cd", count=2)
    (tmp_path / "cd" / "notes.txt").write_text("not DICOM")
    whole = (tmp_path / "cd" / "Doe_Jane_0.dcm").read_bytes()
    (tmp_path / "cd" / "cut.dcm").write_bytes(whole[:len(whole) // 2])
    outcome = ImportController(tmp_path / "side", key_file=tmp_path / "k" / "key").import_paths([tmp_path / "cd"])
    assert len(outcome.released) == 2
    summary = outcome.summary()
    assert "1 skipped, 1 failed" in summary
    # review N4: Slicer logs the popup's text, so no original path or reason in it: they are in the report
    assert "notes.txt" not in summary and "cut.dcm" not in summary and str(tmp_path / "cd") not in summary
    assert "in the report (key holders only)" in summary and str(outcome.run.report_html) in summary
    report = outcome.run.report_json.read_text()
    assert "notes.txt" in report and "cut.dcm" in report


def test_decisions_reach_nested_and_private_elements():
    ds = read("CT_small.dcm")
    ds.RequestAttributesSequence = [pydicom.Dataset(), pydicom.Dataset()]
    ds.RequestAttributesSequence[1].ScheduledProcedureStepDescription = "for Jane"
    ds.add_new(0x00191010, "LO", "ACME 1.0")
    ds.add_new(0x00191011, "LO", "private text")

    class Item:
        def __init__(self, path, value):
            self.path, self.value, self.kept_in_output = path, value, True

    items = [Item("RequestAttributesSequence[1].ScheduledProcedureStepDescription", "for Jane"),
             Item("(0019,1011)", "private text")]
    assert grouped(items[0].path) == "RequestAttributesSequence[*].ScheduledProcedureStepDescription"
    done = apply_decisions(ds, items, [
        ReviewDecision("RequestAttributesSequence[*].ScheduledProcedureStepDescription", EDIT, "for Jane", "-"),
        ReviewDecision("(0019,1011)", REMOVE)])
    assert len(done) == 2
    assert ds.RequestAttributesSequence[1].ScheduledProcedureStepDescription == "-"
    assert 0x00191011 not in ds and 0x00191010 in ds


def test_held_files_wait_for_review_across_sessions(tmp_path):
    patient_files(tmp_path / "cd", count=2)
    key = tmp_path / "secrets" / "key"
    options = DeidentifyOptions(retain_device_identity=True)
    ImportController(tmp_path / "side", options, key_file=key).import_paths([tmp_path / "cd"])
    index = key.parent / "held" / "pending.json"
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    later = ImportController(tmp_path / "side", options, key_file=key)   # a new session
    pending = later.pending()
    assert len(pending.held) == 2 and {row.attribute for row in pending.review} >= {"StationName"}
    assert ImportController(tmp_path / "other-side", options, key_file=key).pending().held == []
    decisions = [ReviewDecision(row.attribute, REMOVE) for row in pending.review]
    released = later.release(pending, decisions)
    assert len(released) == 2 and later.pending().held == []
    assert all("StationName" not in pydicom.dcmread(p) for p in released)


def test_images_with_burned_in_text_are_held_and_removing_their_pixels_discards_them(tmp_path):
    from support.burned_in import burned_in_dataset
    (tmp_path / "cd").mkdir()
    save(burned_in_dataset(), tmp_path / "cd" / "us.dcm")
    patient_files(tmp_path / "cd", count=1)
    key = tmp_path / "secrets" / "key"
    controller = ImportController(tmp_path / "side", key_file=key)   # Clean Pixel Data off: held
    outcome = controller.import_paths([tmp_path / "cd"])
    assert len(outcome.released) == 1 and len(outcome.held) == 1
    [row] = outcome.review
    assert row.attribute == "PixelData" and "burned-in text likely" in row.reason
    profile = tmp_path / "profile.json"
    assert controller.release(outcome, [ReviewDecision("PixelData", REMOVE)], save_profile_to=profile) == []
    assert len(outcome.discarded) == 1 and outcome.held == [] and not list((key.parent / "held").rglob("*.dcm"))
    assert len(list((tmp_path / "side").rglob("*.dcm"))) == 1          # only the CT image is in the side database
    # saved into the profile: the next such image is discarded on import, never written to the side database
    (tmp_path / "cd2").mkdir()
    save(burned_in_dataset(), tmp_path / "cd2" / "us.dcm")
    again = ImportController(tmp_path / "side", DeidentifyOptions.from_file(profile), key_file=key).import_paths(
        [tmp_path / "cd2"])
    assert again.released == [] and again.held == [] and len(again.discarded) == 1
    assert len(list((tmp_path / "side").rglob("*.dcm"))) == 1
    assert "1 discarded after review" in again.summary()
