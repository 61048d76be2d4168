"""What the Save dialog hook does after Slicer's Save dialog ran (SceneScrubberLib.save_decisions):
which file is finished and checked, and which of Slicer 5.10's stray Private/ files are removed.
The files are real scenes written with slicer-core's own writers."""
import zipfile

from SceneScrubberLib.live_scene import scrubbed_for_saving
from SceneScrubberLib.save_decisions import (after_scrubbed_save, carry_out, check_after_unscrubbed_save,
                                             scene_row_target)
from SceneScrubberLib.scene_check import check_scene
from SceneScrubberLib.screenshots import blank_png
from support.scenes import PHI, dicom_scene
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
                                   scene_row_file_name="case.mrb", scene_url=str(case), saved_files=[])
    assert decision.finish == () and decision.warning is None
    carry_out(decision, set(PHI))
    assert case.read_bytes() == before
    assert check_scene(case, {"MRN12345"})   # still the user's identified file


def test_an_accepted_save_elsewhere_does_not_scrub_the_old_url(tmp_path):
    """M2: accepted, but the URL is not the row's target (no fileSaved): warn, touch nothing."""
    case = tmp_path / "case.mrb"
    before = identified_bundle(case)
    decision = after_scrubbed_save(True, True, str(tmp_path / "shared"), "shared.mrb", str(case), [])
    assert decision.finish == () and "could not be identified" in decision.warning
    carry_out(decision, set(PHI))
    assert case.read_bytes() == before


def test_without_file_saved_an_accepted_save_to_the_url_is_finished(tmp_path):
    scene = dicom_scene()
    path = tmp_path / "shared.mrb"
    with scrubbed_for_saving(scene) as report:
        assert scene.WriteToMRB(str(path), screenshot())
    decision = after_scrubbed_save(True, True, str(tmp_path), "shared.mrb", str(path), [])
    assert decision.finish == (scene_row_target(str(tmp_path), "shared.mrb", ""),)
    outcome = carry_out(decision, report.identifying_values | set(PHI))
    assert [(p, f, e) for p, f, e in outcome.scenes] == [(str(path), [], None)]
    with zipfile.ZipFile(path) as bundle:
        [thumbnail] = [n for n in bundle.namelist() if n.endswith(".png")]
        assert bundle.read(thumbnail) == blank_png(24, 12)


def test_a_scene_named_by_file_saved_is_finished_even_if_the_dialog_was_not_accepted(tmp_path):
    """A node after the scene failed: the scene was written (fileSaved), so its screenshot is blanked."""
    decision = after_scrubbed_save(False, True, str(tmp_path), "a.mrml", "",
                                   [str(tmp_path / "Volume 1.nrrd"), str(tmp_path / "a.mrml")])
    assert decision.finish == (str(tmp_path / "a.mrml"),) and decision.stray_files == ()


def test_a_data_bundle_folder_is_recognised_as_the_scene(tmp_path):
    decision = after_scrubbed_save(True, True, str(tmp_path), "SceneFolder", "", [str(tmp_path / "SceneFolder")])
    assert decision.finish == (str(tmp_path / "SceneFolder"),)


def test_an_unchecked_scene_row_is_neither_finished_nor_warned_about(tmp_path):
    decision = after_scrubbed_save(True, False, str(tmp_path), "a.mrb", str(tmp_path / "a.mrb"),
                                   [str(tmp_path / "Volume 1.nrrd")])
    assert decision == type(decision)()


def test_slicer_5_10_private_folder_beside_an_mrb_is_cleaned(tmp_path):
    """M8: 5.10's saveHiddenNodes writes <dir>/Private/<node>.<ext> (fileSaved for each) before the
    bundle, which holds its own copies; those files, and only those, are removed."""
    scene = dicom_scene()
    path = tmp_path / "shared.mrb"
    with scrubbed_for_saving(scene) as report:
        assert scene.WriteToMRB(str(path), screenshot())
    private = tmp_path / "Private"
    private.mkdir()
    stray = private / "SceneView1 for Doe^John.nrrd"
    stray.write_bytes(b"NRRD0004\n# MRN12345\n")
    decision = after_scrubbed_save(True, True, str(tmp_path), "shared.mrb", str(path), [str(stray), str(path)])
    assert decision.finish == (str(path),)
    assert decision.stray_files == (str(stray),) and decision.stray_folders == (str(private),)
    outcome = carry_out(decision, report.identifying_values | set(PHI))
    assert outcome.scenes == [(str(path), [], None)] and outcome.not_removed == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.mrb"]


def test_files_of_the_user_in_a_private_folder_stay(tmp_path):
    private = tmp_path / "Private"
    private.mkdir()
    mine = private / "notes.txt"
    mine.write_text("mine")
    stray = private / "Hidden.nrrd"
    stray.write_bytes(b"x")
    decision = after_scrubbed_save(True, True, str(tmp_path), "shared.mrb", "",
                                   [str(stray), str(tmp_path / "shared.mrb")])
    carry_out(decision, set())   # shared.mrb does not exist: reported, the strays are still cleaned
    assert not stray.exists() and mine.read_text() == "mine"


def test_private_files_beside_a_mrml_scene_are_part_of_it_and_stay(tmp_path):
    decision = after_scrubbed_save(True, True, str(tmp_path), "a.mrml", "",
                                   [str(tmp_path / "Private" / "Hidden.nrrd"), str(tmp_path / "a.mrml")])
    assert decision.stray_files == () and decision.stray_folders == ()


def test_a_finish_that_fails_is_reported_not_raised(tmp_path):
    broken = tmp_path / "broken.mrb"
    broken.write_bytes(b"not a zip")
    outcome = carry_out(after_scrubbed_save(True, True, str(tmp_path), "broken.mrb", "", [str(broken)]), set())
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
    decision = after_scrubbed_save(True, True, str(tmp_path), "shared.mrb", str(path), [str(autosave), str(path)])
    assert decision.finish == (str(path),)
    outcome = carry_out(decision, report.identifying_values | set(PHI))
    assert outcome.scenes == [(str(path), [], None)]
    assert autosave.read_bytes() == before


def test_the_row_target_is_what_the_dialog_writes(tmp_path):
    assert scene_row_target(str(tmp_path), "a.mrb", "/elsewhere/b.mrb") == str(tmp_path / "a.mrb")
    assert scene_row_target(str(tmp_path), "", str(tmp_path / "b.mrb")) == str(tmp_path / "b.mrb")
    assert scene_row_target(str(tmp_path / "x"), "../a.mrb", "") == str(tmp_path / "a.mrb")
