"""What the Save dialog hook decides (the Qt part only applies it): file names and folders in the
dialog's table, the work after a scrubbed save, and the message the user reads."""
import zipfile

import vtk

from SceneScrubberLib.after_save import finish_saved_scene, is_saved_scene
from SceneScrubberLib.live_scene import identifying_values, plan_scrub, take_snapshot, scrubbed_for_saving
from SceneScrubberLib.save_rows import RowChange, SaveRow, neutral_rows, outcome_message, outcome_message_path
from SceneScrubberLib.scene_check import Finding, check_scene
from SceneScrubberLib.screenshots import blank_png
from support.scenes import PHI, dicom_scene

VALUES = {"Doe^John", "MRN12345", "Axial for Doe"}


def test_rows_get_the_neutral_names_and_leave_folders_named_after_the_patient():
    rows = [SaveRow(0, "", "2026-11-24-Scene.mrml", ".mrml", "/data/shared", True),
            SaveRow(1, "vtkMRMLScalarVolumeNode1", "3 Axial for Doe.nrrd", ".nrrd", "/data/shared", True),
            SaveRow(2, "vtkMRMLScalarVolumeNode2", "Mask.seg.nrrd", ".seg.nrrd", "/data/Patients/DOE_JOHN", False),
            SaveRow(3, "vtkMRMLModelNode1", "MRN12345 skin.vtk", ".vtk", "/data/shared", True),
            SaveRow(4, "vtkMRMLTableNode1", "Measurements.tsv", ".tsv", "/data/shared", True)]
    changes = neutral_rows(rows, {"vtkMRMLScalarVolumeNode1": "Volume 1"}, VALUES, "/data/shared")
    assert changes == [RowChange(1, "Volume 1.nrrd"),
                       RowChange(2, None, "/data/shared", check=True),   # written beside the scene, not referenced there
                       RowChange(3, "Data 3.vtk")]


def test_n6_an_unchecked_node_row_that_is_renamed_is_checked_so_that_it_is_written():
    """N6: saveNodes skips unchecked rows, so a new name in an unchecked row would never be used and the
    scrubbed .mrml would reference the old "Doe John T1.nrrd". Renamed rows are checked (and unchecked
    again afterwards by the hook); the scene's row is left as the user set it."""
    rows = [SaveRow(0, "", "Doe_John.mrml", ".mrml", "/data/shared", False),
            SaveRow(1, "vtkMRMLScalarVolumeNode1", "Doe John T1.nrrd", ".nrrd", "/data/shared", False),
            SaveRow(2, "vtkMRMLModelNode1", "MRN12345 skin.vtk", ".vtk", "/data/shared", False),
            SaveRow(3, "vtkMRMLTableNode1", "Measurements.tsv", ".tsv", "/data/shared", False)]
    changes = neutral_rows(rows, {"vtkMRMLScalarVolumeNode1": "Volume 1"}, VALUES | {"Doe John"}, "/data/shared")
    assert changes == [RowChange(0, "Scene.mrml"),
                       RowChange(1, "Volume 1.nrrd", check=True),
                       RowChange(2, "Data 2.vtk", check=True)]   # the unrenamed table row stays unchecked


def test_a_scene_file_named_after_the_patient_is_renamed():
    rows = [SaveRow(0, "", "Doe_John.mrb", ".mrb", "/data", True)]
    assert neutral_rows(rows, {}, VALUES, "/data") == [RowChange(0, "Scene.mrb")]


def test_the_message_names_files_but_never_the_values():
    findings = [Finding("scene/Data/Doe John.nrrd", "Doe^John", 12), Finding("scene/scene.mrml", "MRN12345", 40)]
    message = outcome_message("/data/case.mrb", findings, scrubbed=True)
    assert "2 written file(s)" in message and "scene/Data/....nrrd" in message
    assert "Doe" not in message and "MRN12345" not in message
    assert "no identifying value" in outcome_message("/data/case.mrb", [], scrubbed=True)


def test_identifying_values_are_found_without_changing_the_scene():
    scene = dicom_scene(series_description="Axial")
    before = take_snapshot(scene)
    modified = scene.GetMTime()
    values = identifying_values(scene)
    assert {"Doe^John", "MRN12345", "1.2.840.99.1"} <= values
    assert take_snapshot(scene) == before and scene.GetMTime() == modified
    plan = plan_scrub(before)
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetID()
    assert plan.report.renamed_nodes == {volume: "Volume 1"}


def screenshot(width=24, height=12):
    image = vtk.vtkImageData()
    image.SetDimensions(width, height, 1)
    image.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 3)
    image.GetPointData().GetScalars().Fill(255)
    return image


def test_after_a_scrubbed_bundle_save_its_screenshot_is_blanked_and_the_check_is_clean(tmp_path):
    scene = dicom_scene()
    path = tmp_path / "case.mrb"
    with scrubbed_for_saving(scene) as report:
        assert scene.WriteToMRB(str(path), screenshot())     # as Slicer's scene writer saves an .mrb
    with zipfile.ZipFile(path) as bundle:
        [thumbnail] = [n for n in bundle.namelist() if n.endswith(".png")]
        assert bundle.read(thumbnail) != blank_png(24, 12)
    findings, blanked = finish_saved_scene(path, report.identifying_values | set(PHI))
    assert findings == [] and blanked == [thumbnail]
    with zipfile.ZipFile(path) as bundle:
        assert bundle.read(thumbnail) == blank_png(24, 12)
    assert [p.name for p in tmp_path.iterdir()] == ["case.mrb"]    # no temporary left
    assert is_saved_scene(path)


def test_after_a_scrubbed_scene_file_save_its_screenshot_is_blanked(tmp_path):
    scene = dicom_scene()
    scene.SetURL(str(tmp_path / "case.mrml"))
    with scrubbed_for_saving(scene) as report:
        scene.SaveSceneScreenshot(screenshot())
        assert scene.Commit()
    findings, blanked = finish_saved_scene(tmp_path / "case.mrml", report.identifying_values)
    assert findings == [] and blanked == ["case.png"]
    assert (tmp_path / "case.png").read_bytes() == blank_png(24, 12)


def test_a_save_without_scrubbing_is_caught_by_the_check(tmp_path):
    """What the fileSaved backstop does for saves that bypass the dialog."""
    scene = dicom_scene()
    scene.SetURL(str(tmp_path / "case.mrml"))
    assert scene.Commit()
    findings = check_scene(tmp_path / "case.mrml", identifying_values(scene))
    assert {finding.term for finding in findings} >= {"Doe^John", "MRN12345"}
    assert "identifying values were found" in outcome_message(str(tmp_path / "case.mrml"), findings, scrubbed=False)


def test_after_a_scrubbed_bundle_save_what_live_scrubbing_cannot_reach_is_taken_out(tmp_path):
    """A node attribute of its own (not DICOM.*) spells the patient's name as people type it: the live
    scrub leaves it (the policy keeps attributes that are not DICOM's), the re-scrub after the save
    takes the spelling out of the scene and of the NRRD header the attribute is copied into. Text in
    nodes is scrubbed live already (a table cell here)."""
    scene = dicom_scene()
    scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").SetAttribute("Comment", "seen John Doe today")
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", "Table")
    table.AddColumn().SetName("who")
    table.AddEmptyRow()
    table.SetCellText(0, 0, "doe-john")
    path = tmp_path / "case.mrb"
    with scrubbed_for_saving(scene) as report:
        assert scene.WriteToMRB(str(path), screenshot())
    assert {finding.file.rsplit(".", 1)[-1] for finding in check_scene(path, report.identifying_values)} == {"mrml", "nhdr"}
    findings, _blanked = finish_saved_scene(path, report.identifying_values)
    assert findings == []
    with zipfile.ZipFile(path) as bundle:
        texts = {name: bundle.read(name) for name in bundle.namelist() if name.endswith((".mrml", ".tsv"))}
    assert any(b"Comment:seen * today" in data for data in texts.values())
    assert not any(b"doe-john" in data.lower() or b"john doe" in data.lower() for data in texts.values())
    assert scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetAttribute("Comment") == "seen John Doe today"


def test_the_message_masks_the_saved_files_own_path_which_slicer_logs():
    """Slicer logs every popup's text: a scene saved as '/data/Doe John/Doe_John.mrb' is named with
    '...' for the values found or known (review 3, R2)."""
    findings = [Finding("scene/scene.mrml", "Doe^John", 40)]
    message = outcome_message("/data/Doe John/Doe_John.mrb", findings, scrubbed=False)
    assert "Doe" not in message and "John" not in message and message.startswith("/data/")
    clean = outcome_message("/data/Doe John/case.mrb", [], scrubbed=True, values={"Doe^John"})
    assert "Doe" not in clean and "case.mrb" in clean
    assert outcome_message_path("/data/x/case.mrb", ()) == "/data/x/case.mrb"
