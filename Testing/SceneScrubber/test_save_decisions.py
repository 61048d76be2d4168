"""What the Save dialog hook does after Slicer's Save dialog ran (SceneScrubberLib.save_decisions):
which file is finished and checked, and which of Slicer 5.10's stray Private/ files are removed.
The files are real scenes written with slicer-core's own writers."""
import os
import zipfile

import slicer
import vtk

from SceneScrubberLib.live_scene import scrubbed_for_saving
from SceneScrubberLib.save_decisions import (PrivateListing, after_scrubbed_save, carry_out, run_scrubbed_save,
                                             check_after_unscrubbed_save, private_listing, scene_kind,
                                             scene_row_target)
from SceneScrubberLib.scene_check import check_scene
from SceneScrubberLib.screenshots import blank_png
from support.scenes import PHI, dicom_scene, load_scene
from test_save_dialog import screenshot


def identified_bundle(path):
    """The user's own earlier save: a bundle that holds the patient's identity."""
    scene = dicom_scene()
    assert scene.WriteToMRB(str(path), screenshot())
    return path.read_bytes()


def test_a_declined_overwrite_never_touches_the_users_earlier_bundle(tmp_path):
    """M2: Ctrl+S on case.mrb saved earlier, box ticked, 'replace?' answered No: the dialog is not
    accepted, no fileSaved, and the URL still names case.mrb. Nothing may be scrubbed in place."""
    case = tmp_path / "case.mrb"
    before = identified_bundle(case)
    decision = after_scrubbed_save(accepted=False, scene_row_checked=True, scene_row_directory=str(tmp_path),
                                   scene_row_file_name="case.mrb", scene_url=str(case), saved_files=[],
                                   private_before=private_listing(str(case)))
    assert decision.finish == () and decision.warning is None
    carry_out(decision, set(PHI))
    assert case.read_bytes() == before
    assert check_scene(case, {"MRN12345"})   # still the user's identified file


def test_an_accepted_save_elsewhere_does_not_scrub_the_old_url(tmp_path):
    """M2: accepted, but the URL is not the row's target (no fileSaved): warn, touch nothing."""
    case = tmp_path / "case.mrb"
    before = identified_bundle(case)
    decision = after_scrubbed_save(True, True, str(tmp_path / "shared"), "shared.mrb", str(case), [], None)
    assert decision.finish == () and "could not be identified" in decision.warning
    carry_out(decision, set(PHI))
    assert case.read_bytes() == before


def test_without_file_saved_an_accepted_save_to_the_url_is_finished(tmp_path):
    scene = dicom_scene()
    path = tmp_path / "shared.mrb"
    with scrubbed_for_saving(scene) as report:
        assert scene.WriteToMRB(str(path), screenshot())
    decision = after_scrubbed_save(True, True, str(tmp_path), "shared.mrb", str(path), [], None)
    assert decision.finish == (scene_row_target(str(tmp_path), "shared.mrb", ""),)
    outcome = carry_out(decision, report.identifying_values | set(PHI))
    assert [(p, f, e) for p, f, e in outcome.scenes] == [(str(path), [], None)]
    with zipfile.ZipFile(path) as bundle:
        [thumbnail] = [n for n in bundle.namelist() if n.endswith(".png")]
        assert bundle.read(thumbnail) == blank_png(24, 12)


def test_a_scene_named_by_file_saved_is_finished_even_if_the_dialog_was_not_accepted(tmp_path):
    """A node after the scene failed: the scene was written (fileSaved), so its screenshot is blanked."""
    decision = after_scrubbed_save(False, True, str(tmp_path), "a.mrml", "",
                                   [str(tmp_path / "Volume 1.nrrd"), str(tmp_path / "a.mrml")], None)
    assert decision.finish == (str(tmp_path / "a.mrml"),) and decision.stray_files == ()


def test_a_data_bundle_folder_is_recognised_as_the_scene(tmp_path):
    decision = after_scrubbed_save(True, True, str(tmp_path), "SceneFolder", "", [str(tmp_path / "SceneFolder")], None)
    assert decision.finish == (str(tmp_path / "SceneFolder"),)


def test_an_unchecked_scene_row_is_neither_finished_nor_warned_about(tmp_path):
    decision = after_scrubbed_save(True, False, str(tmp_path), "a.mrb", str(tmp_path / "a.mrb"),
                                   [str(tmp_path / "Volume 1.nrrd")], None)
    assert decision == type(decision)()


def test_slicer_5_10_private_folder_beside_an_mrb_is_cleaned(tmp_path):
    """M8: 5.10's saveHiddenNodes writes <dir>/Private/<node>.<ext> (fileSaved for each) before the
    bundle, which holds its own copies; those files, and the folder this save made, are removed."""
    scene = dicom_scene()
    path = tmp_path / "shared.mrb"
    before = private_listing(scene_row_target(str(tmp_path), "shared.mrb", ""))   # when Save is pressed
    assert before == PrivateListing(str(tmp_path / "Private"))
    with scrubbed_for_saving(scene) as report:
        assert scene.WriteToMRB(str(path), screenshot())
    private = tmp_path / "Private"
    private.mkdir()
    stray = private / "SceneView1 for Doe^John.nrrd"
    stray.write_bytes(b"NRRD0004\n# MRN12345\n")
    decision = after_scrubbed_save(True, True, str(tmp_path), "shared.mrb", str(path), [str(stray), str(path)], before)
    assert decision.finish == (str(path),)
    assert decision.stray_files == (str(stray),) and decision.stray_folders == (str(private),)
    assert decision.warning is None
    outcome = carry_out(decision, report.identifying_values | set(PHI))
    assert outcome.scenes == [(str(path), [], None)] and outcome.not_removed == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.mrb"]


def scene_with_private_data(folder):
    """A 5.10-style case.mrml whose hidden node's data is Private/Scene View.nrrd (written by slicer-core)."""
    scene = slicer.vtkMRMLScene()
    scene.SetRootDirectory(str(folder))
    scene.SetURL(str(folder / "case.mrml"))
    volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "Scene View")
    image = vtk.vtkImageData()
    image.SetDimensions(4, 3, 2)
    image.AllocateScalars(vtk.VTK_SHORT, 1)
    image.GetPointData().GetScalars().Fill(7)
    volume.SetAndObserveImageData(image)
    storage = scene.AddNewNodeByClass("vtkMRMLVolumeArchetypeStorageNode")
    volume.SetAndObserveStorageNodeID(storage.GetID())
    (folder / "Private").mkdir()
    storage.SetFileName(str(folder / "Private" / "Scene View.nrrd"))
    assert storage.WriteData(volume)
    assert scene.Commit()
    return folder / "Private" / "Scene View.nrrd"


def test_n2_a_neighbouring_scenes_private_file_that_slicer_replaced_is_kept_and_reported(tmp_path):
    """N2 (the review's reproduction): the folder holds case.mrml and its Private/Scene View.nrrd; a
    scrubbed shared.mrb is saved there with 5.10, whose saveHiddenNodes replaces that file without
    asking. It was there when Save was pressed, so it is neither removed nor is its folder; the user
    is told, and case.mrml still loads its data."""
    users = scene_with_private_data(tmp_path)
    target = scene_row_target(str(tmp_path), "shared.mrb", "")
    before = private_listing(target)
    assert before == PrivateListing(str(tmp_path / "Private"), True, frozenset({str(users)}))
    new = tmp_path / "Private" / "Volume 1.nrrd"   # another hidden node of this save
    new.write_bytes(b"NRRD0004\n")
    decision = after_scrubbed_save(True, True, str(tmp_path), "shared.mrb", "",
                                   [str(users), str(new), target], before)
    assert decision.stray_files == (str(new),) and decision.stray_folders == ()
    assert decision.kept_private_files == (str(users),)
    assert "Scene View.nrrd" in decision.warning and "replaced" in decision.warning
    carry_out(decision, set())   # shared.mrb is not there: reported, the rest goes on
    assert sorted(os.listdir(tmp_path)) == ["Private", "case.mrml"]
    assert os.listdir(tmp_path / "Private") == ["Scene View.nrrd"]
    scene, ok = load_scene(tmp_path / "case.mrml")
    assert ok
    volume = scene.GetFirstNodeByName("Scene View")
    assert volume.GetImageData().GetDimensions() == (4, 3, 2)


def test_n2_without_a_listing_nothing_is_removed_and_the_user_is_told(tmp_path):
    private = tmp_path / "Private"
    private.mkdir()
    stray = private / "Volume 1.nrrd"
    stray.write_bytes(b"x")
    decision = after_scrubbed_save(True, True, str(tmp_path), "shared.mrb", "",
                                   [str(stray), str(tmp_path / "shared.mrb")], None)
    assert decision.stray_files == () and decision.kept_private_files == (str(stray),)
    assert "not known" in decision.warning
    carry_out(decision, set())
    assert stray.exists()


def test_files_of_the_user_in_a_private_folder_stay(tmp_path):
    private = tmp_path / "Private"
    private.mkdir()
    mine = private / "notes.txt"
    mine.write_text("mine")
    before = private_listing(str(tmp_path / "shared.mrb"))
    stray = private / "Hidden.nrrd"
    stray.write_bytes(b"x")
    decision = after_scrubbed_save(True, True, str(tmp_path), "shared.mrb", "",
                                   [str(stray), str(tmp_path / "shared.mrb")], before)
    assert decision.stray_folders == ()   # the folder was there before
    carry_out(decision, set())   # shared.mrb does not exist: reported, the strays are still cleaned
    assert not stray.exists() and mine.read_text() == "mine"


def test_private_files_beside_a_mrml_scene_are_part_of_it_and_stay(tmp_path):
    before = private_listing(str(tmp_path / "a.mrml"))
    decision = after_scrubbed_save(True, True, str(tmp_path), "a.mrml", "",
                                   [str(tmp_path / "Private" / "Hidden.nrrd"), str(tmp_path / "a.mrml")], before)
    assert decision.stray_files == () and decision.stray_folders == () and decision.warning is None


def test_n5_private_copies_beside_a_data_bundle_folder_are_removed(tmp_path):
    """N5: "Slicer Data Bundle (*)" to <dir>/SceneFolder: 5.10 writes the hidden nodes to
    <dir>/Private (sceneFile().absoluteDir() is the folder's parent), while the bundle folder has its
    own Private/. The copies beside it are this save's strays, removed like beside an .mrb."""
    scene = dicom_scene()
    hidden = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "Hidden")
    hidden.SetHideFromEditors(True)
    image = vtk.vtkImageData()
    image.SetDimensions(2, 2, 2)
    image.AllocateScalars(vtk.VTK_SHORT, 1)
    hidden.SetAndObserveImageData(image)
    target = scene_row_target(str(tmp_path), "SceneFolder", "")
    assert scene_kind(str(tmp_path), "SceneFolder", "") == "folder"
    before = private_listing(target)
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    bundle = tmp_path / "SceneFolder"
    bundle.mkdir()
    with scrubbed_for_saving(scene) as report:
        assert logic.SaveSceneToSlicerDataBundleDirectory(str(bundle), screenshot())
    beside = tmp_path / "Private" / "Hidden.nrrd"
    beside.parent.mkdir()
    beside.write_bytes(b"NRRD0004\n")
    decision = after_scrubbed_save(True, True, str(tmp_path), "SceneFolder", "", [str(beside), target], before)
    assert decision.finish == (target,) and decision.stray_files == (str(beside),)
    outcome = carry_out(decision, report.identifying_values | set(PHI))
    assert outcome.scenes == [(target, [], None)]
    assert sorted(os.listdir(tmp_path)) == ["SceneFolder"]


def test_the_writer_is_chosen_by_the_exact_suffix():
    assert scene_kind("/d", "a.mrml", "") == "mrml" and scene_kind("/d", "a.mrb", "") == "mrb"
    assert scene_kind("/d", "a.MRB", "") == "folder"   # QFileInfo::suffix() == "mrb" is case-sensitive
    assert scene_kind("/d", "", "/d/b.mrb") == "mrb"


def test_a_finish_that_fails_is_reported_not_raised(tmp_path):
    broken = tmp_path / "broken.mrb"
    broken.write_bytes(b"not a zip")
    outcome = carry_out(after_scrubbed_save(True, True, str(tmp_path), "broken.mrb", "", [str(broken)], None), set())
    [(path, findings, error)] = outcome.scenes
    assert path == str(broken) and findings == [] and error


def test_the_every_save_check_runs_only_for_dialog_saves_outside_tests():
    target = "/d/case.mrb"
    assert check_after_unscrubbed_save(True, False, True, "/d/case.mrb", target)
    assert not check_after_unscrubbed_save(False, False, True, "/d/case.mrb", target)      # option off
    assert not check_after_unscrubbed_save(True, True, True, "/d/case.mrb", target)        # --testing
    assert not check_after_unscrubbed_save(True, False, False, "/d/case.mrb", target)      # slicer.util.saveScene
    assert not check_after_unscrubbed_save(True, False, True, "/d/Volume 1.nrrd", target)  # a node's file
    assert not check_after_unscrubbed_save(True, False, True, "/d/autosave.mrb", target)   # N4: not the dialog's
    assert check_after_unscrubbed_save(True, False, True, "/d/Folder", scene_target="/d/Folder")


def test_a_bundle_saved_by_other_code_during_the_save_is_not_scrubbed_again(tmp_path):
    """N4: a timer-driven save (an autosave) wrote another .mrb while the "replace?" prompt was open;
    only the row's target is finished, the other bundle keeps its bytes (and its DICOM links)."""
    autosave = tmp_path / "autosave.mrb"
    before = identified_bundle(autosave)
    scene = dicom_scene()
    path = tmp_path / "shared.mrb"
    with scrubbed_for_saving(scene) as report:
        assert scene.WriteToMRB(str(path), screenshot())
    decision = after_scrubbed_save(True, True, str(tmp_path), "shared.mrb", str(path), [str(autosave), str(path)],
                                   private_listing(str(path)))
    assert decision.finish == (str(path),)
    outcome = carry_out(decision, report.identifying_values | set(PHI))
    assert outcome.scenes == [(str(path), [], None)]
    assert autosave.read_bytes() == before


def test_the_row_target_is_what_the_dialog_writes(tmp_path):
    assert scene_row_target(str(tmp_path), "a.mrb", "/elsewhere/b.mrb") == str(tmp_path / "a.mrb")
    assert scene_row_target(str(tmp_path), "", str(tmp_path / "b.mrb")) == str(tmp_path / "b.mrb")
    assert scene_row_target(str(tmp_path / "x"), "../a.mrb", "") == str(tmp_path / "a.mrb")


def _live(tmp_path):
    from SceneScrubberLib.live_scene import plan_scrub, take_snapshot
    scene = dicom_scene()
    snapshot = take_snapshot(scene)
    return scene, snapshot, plan_scrub(snapshot)


def test_n7_a_put_back_step_that_fails_does_not_stop_the_others_and_is_reported(tmp_path):
    """N7: the scene is saved scrubbed; putting the table back fails; the scene is still put back and
    the run says what failed, so the hook can still finish, check and tell the user."""
    from SceneScrubberLib.live_scene import apply_plan, restore, take_snapshot
    scene, snapshot, plan = _live(tmp_path)
    path = tmp_path / "shared.mrb"

    def broken_table():
        raise RuntimeError("the dialog refilled its table")

    run = run_scrubbed_save(lambda: apply_plan(scene, plan), lambda: scene.WriteToMRB(str(path), screenshot()),
                            [("table", broken_table), ("scene", lambda: restore(scene, snapshot))])
    assert run.saved is True and run.errors == [("table", "RuntimeError")]   # the type only: texts may name files
    assert run.put_back_errors() == run.errors and not run.failed("save")
    after = take_snapshot(scene)   # the session is as it was (writing adds SubjectHierarchyVersion, not ours)
    assert after.items == snapshot.items and after.nodes["vtkMRMLScalarVolumeNode1"] == snapshot.nodes["vtkMRMLScalarVolumeNode1"]
    assert check_scene(path, plan.report.identifying_values) == []


def test_n7_when_scrubbing_fails_nothing_is_saved_and_the_scene_is_put_back(tmp_path):
    from SceneScrubberLib.live_scene import apply_plan, restore, take_snapshot
    scene, snapshot, plan = _live(tmp_path)
    plan.node_names["vtkMRMLScalarVolumeNode404"] = "Volume 9"   # a node removed since the plan: apply raises
    path = tmp_path / "shared.mrb"
    run = run_scrubbed_save(lambda: apply_plan(scene, plan), lambda: scene.WriteToMRB(str(path)),
                            [("scene", lambda: restore(scene, snapshot))])
    assert run.failed("apply") and run.saved is None and not path.exists()
    assert take_snapshot(scene) == snapshot
