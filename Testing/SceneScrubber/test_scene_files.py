"""The files around a scene: data stored outside the scene folder, hidden nodes' '<scene>_Private'
folder, file lists, and screenshots, on scenes written by slicer-core."""
import zipfile
from pathlib import Path

import slicer
import vtk

from SceneScrubberLib.bundles import scrub_scene
from SceneScrubberLib.scene_check import check_scene, identifying_terms
from SceneScrubberLib.screenshots import blank_png, png_size
from support.scenes import PHI, dicom_scene, load_scene


def image(dimensions=(4, 4, 1), scalar=vtk.VTK_SHORT):
    data = vtk.vtkImageData()
    data.SetDimensions(*dimensions)
    data.AllocateScalars(scalar, 1 if scalar != vtk.VTK_UNSIGNED_CHAR else 3)
    return data


def scene_with_files_around(root: Path) -> Path:
    """case.mrml whose volume lives in ../Patients/DOE_JOHN/, with a hidden node named after the
    patient (saved into case_Private/) and a screenshot showing the views."""
    scene = dicom_scene(series_description="Axial")
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    outside = root / "Patients" / "DOE_JOHN"
    outside.mkdir(parents=True)
    volume.GetStorageNode().SetFileName(str(outside / "3 Axial.nrrd"))
    assert volume.GetStorageNode().WriteData(volume)
    hidden = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "Doe John mask")
    hidden.SetHideFromEditors(1)
    hidden.SetAndObserveImageData(image())
    hidden.SetAttribute("DICOM.PatientName", "Doe^John")
    (root / "scene").mkdir()
    scene.SetURL(str(root / "scene" / "case.mrml"))
    assert scene.Commit()
    scene.SaveSceneScreenshot(image((32, 16, 1), vtk.VTK_UNSIGNED_CHAR))
    return root / "scene" / "case.mrml"


def test_a_scene_file_is_checked_with_the_files_it_references(tmp_path):
    mrml = scene_with_files_around(tmp_path)
    findings = check_scene(mrml, PHI, allowed_folders=[tmp_path / "Patients"])
    files = {finding.file for finding in findings}
    assert "case.mrml" in files
    assert "../Patients/DOE_JOHN/3 Axial.nrrd" in files      # folder name and NRRD header
    assert "case_Private/Doe John mask.nrrd" in files         # hidden node's file, named after the patient


def test_a_scene_file_scrubbed_beside_takes_its_data_along_and_still_loads(tmp_path):
    mrml = scene_with_files_around(tmp_path)
    terms = identifying_terms(mrml, allowed_folders=[tmp_path / "Patients"]) | set(PHI) | {"Doe John"}
    out = tmp_path / "shared" / "clean.mrml"
    out.parent.mkdir()
    result = scrub_scene(mrml, out, allowed_folders=[tmp_path / "Patients"])
    assert result.report.relocated_files == ["../Patients/DOE_JOHN/3 Axial.nrrd"]
    assert result.blanked_screenshots == ["case.png"]
    assert check_scene(out, terms) == []
    written = sorted(p.relative_to(out.parent).as_posix() for p in out.parent.rglob("*") if p.is_file())
    assert "clean.png" in written and any(name.startswith("Data/") for name in written)
    assert not any(name.startswith(".") for name in written)          # no staging left
    scene, connected = load_scene(out)
    assert connected
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    assert volume.GetImageData().GetDimensions() == (8, 8, 3)          # the data came along
    assert (tmp_path / "Patients" / "DOE_JOHN" / "3 Axial.nrrd").exists()   # input untouched


def test_a_scene_file_scrubbed_into_a_bundle_opens_in_slicer(tmp_path):
    mrml = scene_with_files_around(tmp_path)
    result = scrub_scene(mrml, tmp_path / "clean.mrb", allowed_folders=[tmp_path])
    assert check_scene(result.output, set(PHI) | {"Doe John"}) == []
    with zipfile.ZipFile(result.output) as bundle:
        names = bundle.namelist()
        assert all(name.startswith("clean/") for name in names)
        thumbnail = bundle.read("clean/case.png")
    assert png_size(thumbnail) == (32, 16)
    scene = slicer.vtkMRMLScene()
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    (tmp_path / "opened").mkdir()
    assert logic.OpenSlicerDataBundle(str(result.output), str(tmp_path / "opened"))
    volumes = [scene.GetNthNodeByClass(i, "vtkMRMLScalarVolumeNode")
               for i in range(scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode"))]
    assert sorted(v.GetImageData().GetDimensions() for v in volumes) == [(4, 4, 1), (8, 8, 3)]


def test_the_screenshot_of_a_saved_bundle_is_blanked_at_its_size(tmp_path):
    scene = dicom_scene()
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    bundle = tmp_path / "scene"
    bundle.mkdir()
    shot = image((40, 30, 1), vtk.VTK_UNSIGNED_CHAR)
    shot.GetPointData().GetScalars().Fill(200)
    assert logic.SaveSceneToSlicerDataBundleDirectory(str(bundle), shot)
    assert logic.Zip(str(tmp_path / "scene.mrb"), str(bundle))
    result = scrub_scene(tmp_path / "scene.mrb", tmp_path / "clean.mrb")
    [name] = result.blanked_screenshots
    with zipfile.ZipFile(tmp_path / "scene.mrb") as old, zipfile.ZipFile(result.output) as new:
        assert old.read(name) != new.read(name)
        assert new.read(name) == blank_png(40, 30)
    reader = vtk.vtkPNGReader()
    (tmp_path / "blank.png").write_bytes(blank_png(40, 30))
    reader.SetFileName(str(tmp_path / "blank.png"))
    reader.Update()
    assert reader.GetOutput().GetDimensions() == (40, 30, 1)
    assert reader.GetOutput().GetScalarRange() == (0.0, 0.0)


def test_every_file_list_member_named_after_the_patient_is_renamed(tmp_path):
    mrml = scene_with_files_around(tmp_path)
    text = mrml.read_text()
    assert 'fileListMember0="case_Private/Doe%20John%20mask.nrrd"' in text
    result = scrub_scene(mrml, tmp_path / "clean", allowed_folders=[tmp_path / "Patients"])
    scrubbed = (tmp_path / "clean" / "case.mrml").read_text()
    assert "Doe%20John" not in scrubbed and "DOE_JOHN" not in scrubbed
    assert result.missing_files == []


def cine_scene(folder: Path):
    """A volume sequence whose frames carry DICOM attributes, stored as Slicer stores sequences."""
    scene = slicer.vtkMRMLScene()
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "Cine")
    for frame in range(2):
        volume = slicer.vtkMRMLScalarVolumeNode()
        volume.SetAndObserveImageData(image((3, 3, 1)))
        volume.SetAttribute("DICOM.instanceUIDs", f"1.2.840.99.5{frame}")
        sequence.SetDataNodeAtValue(volume, str(frame))
    storage = scene.AddNewNodeByClass("vtkMRMLVolumeSequenceStorageNode")
    sequence.SetAndObserveStorageNodeID(storage.GetID())
    storage.SetFileName(str(folder / "cine.seq.nrrd"))
    return scene, sequence, storage


def test_frame_attributes_of_a_sequence_are_scrubbed_live_and_restored(tmp_path):
    from SceneScrubberLib.live_scene import scrubbed_for_saving
    scene, sequence, storage = cine_scene(tmp_path)
    with scrubbed_for_saving(scene) as report:
        assert storage.WriteData(sequence)
    assert {"1.2.840.99.50", "1.2.840.99.51"} <= report.identifying_values
    assert b"DICOM." not in (tmp_path / "cine.seq.nrrd").read_bytes()[:4096]
    assert sequence.GetNthDataNode(1).GetAttribute("DICOM.instanceUIDs") == "1.2.840.99.51"   # restored


def test_frame_attributes_in_a_sequence_file_are_scrubbed_offline(tmp_path):
    from SceneScrubberLib.bundles import scrub_nrrd_header
    scene, sequence, storage = cine_scene(tmp_path)
    assert storage.WriteData(sequence)
    data = (tmp_path / "cine.seq.nrrd").read_bytes()
    assert b"axis 3 item 0001 DICOM.instanceUIDs:=1.2.840.99.51" in data
    scrubbed, removed = scrub_nrrd_header(data)
    assert sorted(removed) == ["1.2.840.99.50", "1.2.840.99.51"]
    assert b"DICOM." not in scrubbed and b"axis 3 index values:=0 1" in scrubbed
    assert scrubbed.endswith(data[data.index(b"\n\n"):])     # the image data is untouched


def test_a_reference_to_a_missing_file_never_ends_up_naming_another_file(tmp_path):
    mrml = scene_with_files_around(tmp_path)
    (tmp_path / "Patients" / "DOE_JOHN" / "3 Axial.nrrd").unlink()          # the external file is gone
    result = scrub_scene(mrml, tmp_path / "clean", allowed_folders=[tmp_path / "Patients"])
    assert result.missing_files == ["../Patients/DOE_JOHN/3 Axial.nrrd"]
    (tmp_path / "scene" / "Data").mkdir()
    # the missing volume would be referenced as Data/Volume_1.nrrd (its neutral name): another file has it
    (tmp_path / "scene" / "Data" / "Volume_1.nrrd").write_bytes(b"NRRD0004\n\nanother volume")
    import pytest
    from SceneScrubberLib.mrml_scrubber import SceneError
    with pytest.raises(SceneError, match="two files one"):
        scrub_scene(tmp_path / "scene", tmp_path / "clean2", allowed_folders=[tmp_path / "Patients"])
