"""The scrubber's options: keep UIDs, shift dates; offline, live, in NRRD headers and on the command line."""
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import slicer

from SceneScrubberLib.bundles import scrub_nrrd_header
from SceneScrubberLib.scene_check import check_scene
from SceneScrubberLib.live_scene import scrubbed_for_saving
from SceneScrubberLib.mrml_scrubber import scrub_mrml
from SceneScrubberLib.mrml_codec import parse_item_attributes
from SceneScrubberLib.policy import ScrubPolicy, shift_date
from support.scenes import dicom_scene, hierarchy_items

CLI = Path(sys.executable).parent / "scene-scrubber"


def dated_scene():
    scene = dicom_scene()
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    study = hierarchy_items(scene)[1]
    sh.SetItemAttribute(study, "DICOM.StudyDate", "20240130")
    return scene


def committed(path, scene):
    scene.SetURL(str(path))
    assert scene.Commit()
    return path.read_bytes()


def items_of(data: bytes) -> list:
    return [(e.get("name"), dict(parse_item_attributes(e.get("attributes", ""))), dict(parse_item_attributes(e.get("uids", ""))))
            for e in ET.fromstring(data).iter("SubjectHierarchyItem") if e.get("name") != "Scene"]


def test_keep_uids_keeps_study_and_series_uids_but_never_the_patient_id(tmp_path):
    data = committed(tmp_path / "s.mrml", dicom_scene())
    scrubbed, report = scrub_mrml(data, ScrubPolicy(keep_uids=True))
    patient, study, series = items_of(scrubbed)
    assert patient[2] == {} and b"MRN12345" not in scrubbed
    assert study[1]["DICOM.StudyInstanceUID"] == "1.2.840.99.1" and study[2] == {"DICOM": "1.2.840.99.1"}
    assert series[2] == {"DICOM": "1.2.840.99.2"} and b"1.2.840.99.3 1.2.840.99.4" in scrubbed
    assert "DICOM.PatientName" not in patient[1] and "1.2.840.99.1" not in report.identifying_values
    default, _ = scrub_mrml(data)
    assert b"1.2.840.99" not in default


def test_shift_dates_moves_dates_back_and_keeps_intervals(tmp_path):
    assert shift_date("20240130", 10) == "20240120" and shift_date("not a date", 10) is None
    data = committed(tmp_path / "s.mrml", dated_scene())
    scrubbed, report = scrub_mrml(data, ScrubPolicy(date_offset_days=10))
    patient, study, _series = items_of(scrubbed)
    assert study[1]["DICOM.StudyDate"] == "20240120" and patient[1]["DICOM.PatientBirthDate"] == "19691222"
    assert b"20240130" not in scrubbed and b"19700101" not in scrubbed
    assert {"20240130", "19700101"} <= report.identifying_values


def test_nrrd_headers_follow_the_policy():
    header = b"NRRD0005\ntype: short\nDICOM.instanceUIDs:=1.2.3 1.2.4\nDICOM.PatientName:=Doe^John\n\n\x00\x01"
    kept, removed = scrub_nrrd_header(header, ScrubPolicy(keep_uids=True))
    assert kept == b"NRRD0005\ntype: short\nDICOM.instanceUIDs:=1.2.3 1.2.4\n\n\x00\x01" and removed == ["Doe^John"]


def test_a_live_save_with_kept_uids_and_shifted_dates(tmp_path):
    scene = dated_scene()
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    (tmp_path / "bundle").mkdir()
    policy = ScrubPolicy(keep_uids=True, date_offset_days=3)
    with scrubbed_for_saving(scene, policy) as report:
        assert logic.SaveSceneToSlicerDataBundleDirectory(str(tmp_path / "bundle"), None)
    # the check is told the policy (without one it is the strictest: the kept UIDs in headers are findings)
    assert check_scene(tmp_path / "bundle", report.identifying_values, policy=policy) == []
    assert check_scene(tmp_path / "bundle", report.identifying_values) != []
    assert check_scene(tmp_path / "bundle", {"1.2.840.99.1", "20240127"})   # kept UID and shifted date are there
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    assert sh.GetItemAttribute(hierarchy_items(scene)[1], "DICOM.StudyDate") == "20240130"   # restored


def test_command_line_options(tmp_path):
    committed(tmp_path / "s.mrml", dated_scene())
    result = subprocess.run([str(CLI), "scrub", str(tmp_path / "s.mrml"), "--output", str(tmp_path / "o.mrml"),
                             "--keep-uids", "--shift-dates", "5"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (tmp_path / "o.mrml").read_text()
    assert "1.2.840.99.1" in text and "20240125" in text and "MRN12345" not in text


def test_stored_settings_never_make_a_save_fail():
    """N7: a hand-edited Slicer.ini (ShiftDateDays=abc) used to raise in the Save handler."""
    from SceneScrubberLib.policy import ScrubPolicy, policy_from_settings, shift_days_setting
    assert [shift_days_setting(v) for v in ("12", 12, " 7 ", "", None, "abc", "-3", "1.5")] == [12, 12, 7, 0, 0, 0, 0, 0]
    assert policy_from_settings("true", "30") == ScrubPolicy(keep_uids=True, date_offset_days=30)
    assert policy_from_settings("false", "abc") == ScrubPolicy()
    assert policy_from_settings(None, None) == ScrubPolicy()
