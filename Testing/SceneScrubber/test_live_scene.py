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


def _next_save_proposes(scene):
    """The scene row the Save dialog starts from: QFileInfo(QDir(root directory), URL)
    (qSlicerSaveDataDialog.cxx populateScene, main 277-281)."""
    import os
    return os.path.join(scene.GetRootDirectory(), scene.GetURL())


def test_n3_after_a_scrubbed_copy_the_scene_still_points_at_the_users_own_file(tmp_path):
    """N3: Slicer's scene writer moves the URL and root directory to the file it writes (qSlicerSceneWriter.cxx
    writeToMRML 129-130, writeToMRB 168-169). After a scrubbed copy they are the user's again, so the next
    ordinary Save does not propose the shared copy."""
    own, share = tmp_path / "data", tmp_path / "share"
    own.mkdir()
    share.mkdir()
    scene = dicom_scene()
    scene.SetRootDirectory(str(own))
    scene.SetURL(str(own / "case.mrml"))
    with scrubbed_for_saving(scene) as report:
        scene.SetURL(str(share / "case.mrml"))       # as writeToMRML does before Commit
        scene.SetRootDirectory(str(share))
        assert scene.Commit()
        scene.SetURL(str(share / "case.mrb"))        # as writeToMRB does before WriteToMRB
        assert scene.WriteToMRB(str(share / "case.mrb"))
    assert check_scene(share / "case.mrml", report.identifying_values) == []
    assert check_scene(share / "case.mrb", report.identifying_values) == []
    assert (scene.GetURL(), scene.GetRootDirectory()) == (str(own / "case.mrml"), str(own))
    assert _next_save_proposes(scene) == str(own / "case.mrml")


def test_n3_a_scene_that_had_no_file_gets_none_from_the_copy(tmp_path):
    scene = dicom_scene()
    root = scene.GetRootDirectory()
    with scrubbed_for_saving(scene):
        scene.SetURL(str(tmp_path / "shared.mrb"))
        scene.SetRootDirectory(str(tmp_path))
        assert scene.WriteToMRB(str(tmp_path / "shared.mrb"))
    assert (scene.GetURL() or "", scene.GetRootDirectory()) == ("", root)
