"""Scrubbing a live scene for saving: the written files hold no identity, the scene comes back exactly."""
import slicer

from SceneScrubberLib.scene_check import check_scene
from SceneScrubberLib.live_scene import scrub_scene, scrubbed_for_saving, take_snapshot

from support.scenes import PHI, dicom_scene


def test_saving_a_scrubbed_scene_then_restoring_it(tmp_path):
    scene = dicom_scene("Doe^John|Jr", series_description="Axial")   # the volume is named "3: Axial"
    before = take_snapshot(scene)
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    (tmp_path / "bundle").mkdir()
    with scrubbed_for_saving(scene) as report:
        assert logic.SaveSceneToSlicerDataBundleDirectory(str(tmp_path / "bundle"), None)
        assert logic.Zip(str(tmp_path / "scene.mrb"), str(tmp_path / "bundle"))
    assert set(PHI) - {"Doe^John", "Head CT for John Doe"} <= report.identifying_values
    assert check_scene(tmp_path / "scene.mrb", report.identifying_values | set(PHI) | {"Jr", "Axial"}) == []
    after = take_snapshot(scene)
    assert after.items == before.items   # names, attributes and UIDs exactly as they were
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetID()
    assert after.nodes[volume] == before.nodes[volume]
    assert after.nodes[volume] == ("3: Axial", {"DICOM.instanceUIDs": "1.2.840.99.3 1.2.840.99.4", "Color": "grey"})


def test_scrubbing_for_good(tmp_path):
    scene = dicom_scene()
    report = scrub_scene(scene)
    snapshot = take_snapshot(scene)
    assert [name for name, _a, _u in snapshot.items.values()][:2] == ["Patient 1", "Study 1"]
    assert not any(a.startswith("DICOM.") for _n, attributes, _u in snapshot.items.values() for a in attributes)
    assert all(not uids for _n, _a, uids in snapshot.items.values())
    assert report.removed_uids == 3 and report.renamed_items[0] == ("Doe^John", "Patient 1")
    scene.SetURL(str(tmp_path / "scene.mrml"))
    assert scene.Commit()
    assert check_scene(tmp_path / "scene.mrml", set(PHI)) == []
