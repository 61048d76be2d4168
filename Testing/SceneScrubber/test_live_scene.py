"""Scrubbing a live scene for saving: the written files hold no identity, the scene comes back exactly."""
import slicer
import vtk

from SceneScrubberLib.bundles import check_scene
from SceneScrubberLib.live_scene import scrub_scene, scrubbed_for_saving, take_snapshot

from test_bundles import PHI


def dicom_scene():
    scene = slicer.vtkMRMLScene()
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    patient = sh.CreateSubjectItem(sh.GetSceneItemID(), "Doe^John")
    for name, value in (("PatientName", "Doe^John|Jr"), ("PatientID", "MRN12345"), ("PatientBirthDate", "19700101")):
        sh.SetItemAttribute(patient, f"DICOM.{name}", value)
    sh.SetItemUID(patient, "DICOM", "MRN12345")
    study = sh.CreateStudyItem(patient, "Head CT for John Doe")
    sh.SetItemAttribute(study, "DICOM.StudyInstanceUID", "1.2.840.99.1")
    sh.SetItemUID(study, "DICOM", "1.2.840.99.1")
    volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "3: Axial")
    image = vtk.vtkImageData()
    image.SetDimensions(4, 4, 2)
    image.AllocateScalars(vtk.VTK_SHORT, 1)
    volume.SetAndObserveImageData(image)
    volume.SetAttribute("DICOM.instanceUIDs", "1.2.840.99.3 1.2.840.99.4")
    volume.SetAttribute("Color", "grey")
    storage = scene.AddNewNodeByClass("vtkMRMLNRRDStorageNode")
    volume.SetAndObserveStorageNodeID(storage.GetID())
    sh.CreateItem(study, volume)
    return scene


def test_saving_a_scrubbed_scene_then_restoring_it(tmp_path):
    scene = dicom_scene()
    before = take_snapshot(scene)
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    (tmp_path / "bundle").mkdir()
    with scrubbed_for_saving(scene) as report:
        assert logic.SaveSceneToSlicerDataBundleDirectory(str(tmp_path / "bundle"), None)
        assert logic.Zip(str(tmp_path / "scene.mrb"), str(tmp_path / "bundle"))
    assert set(PHI) - {"Doe^John", "Head CT for John Doe"} <= report.identifying_values
    assert check_scene(tmp_path / "scene.mrb", report.identifying_values | set(PHI) | {"Jr"}) == []
    after = take_snapshot(scene)
    assert after.items == before.items   # names, attributes and UIDs exactly as they were
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetID()
    assert after.nodes[volume] == before.nodes[volume]
    assert after.nodes[volume]["DICOM.instanceUIDs"] == "1.2.840.99.3 1.2.840.99.4"


def test_scrubbing_for_good(tmp_path):
    scene = dicom_scene()
    report = scrub_scene(scene)
    snapshot = take_snapshot(scene)
    assert [name for name, _a, _u in snapshot.items.values()][:2] == ["Patient 1", "Study 1"]
    assert not any(a.startswith("DICOM.") for _n, attributes, _u in snapshot.items.values() for a in attributes)
    assert all(not uids for _n, _a, uids in snapshot.items.values())
    assert report.removed_uids == 2 and report.renamed_items[0] == ("Doe^John", "Patient 1")
    scene.SetURL(str(tmp_path / "scene.mrml"))
    assert scene.Commit()
    assert check_scene(tmp_path / "scene.mrml", set(PHI)) == []
