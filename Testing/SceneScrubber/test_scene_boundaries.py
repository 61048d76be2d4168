"""Issue 14, items 5 and 6: only files that belong to the scene are read and written.

Scenes are written by slicer-core (vtkMRMLScene.Commit writes a storage node's file name relative to
the scene, '../../../etc/passwd' for '/etc/passwd'); hostile parts are made as an attacker would."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import slicer

from SceneScrubberLib.bundles import scrub_scene
from SceneScrubberLib.mrml_scrubber import SceneError
from SceneScrubberLib.scene_check import check_scene
from SceneScrubberLib.screenshots import blank_png
from support.scenes import PHI, dicom_scene, load_scene

CLI = Path(sys.executable).parent / "scene-scrubber"


def scene_pointing_at(scene_file: Path, data_file) -> Path:
    """A DICOM-loaded scene saved at `scene_file` whose volume's storage node names `data_file`."""
    scene = dicom_scene()
    scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetStorageNode().SetFileName(str(data_file))
    scene_file.parent.mkdir(parents=True, exist_ok=True)
    scene.SetURL(str(scene_file))
    assert scene.Commit()
    return scene_file


def written(folder: Path) -> list:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/environ"])
def test_a_storage_node_naming_a_system_file_is_refused_and_nothing_is_written(tmp_path, target):
    mrml = scene_pointing_at(tmp_path / "in" / "a" / "b" / "case.mrml", target)
    assert b'fileName="../../../' in mrml.read_bytes()     # as Slicer writes it
    for output in ("out", "out.mrb", "out.mrml"):
        with pytest.raises(SceneError, match="outside the scene's folder"):
            scrub_scene(mrml, tmp_path / output)
    with pytest.raises(SceneError, match="outside the scene's folder"):
        check_scene(mrml, PHI)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


@pytest.mark.parametrize("allowed", ["/proc", "/"])
def test_proc_is_never_read_even_where_allowed(tmp_path, allowed):
    mrml = scene_pointing_at(tmp_path / "in" / "case.mrml", "/proc/self/environ")
    with pytest.raises(SceneError, match="system or key file"):
        scrub_scene(mrml, tmp_path / "out", allowed_folders=[allowed])
    assert not (tmp_path / "out").exists()


def test_nothing_is_ever_read_from_the_key_folder(tmp_path, monkeypatch):
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "pseudonym.key").write_text("00" * 32 + "\n")
    monkeypatch.setenv("SLICER_DEIDENTIFY_HOME", str(keys))
    mrml = scene_pointing_at(tmp_path / "scene" / "case.mrml", keys / "pseudonym.key")
    with pytest.raises(SceneError, match="system or key file"):
        scrub_scene(mrml, tmp_path / "out", allowed_folders=[tmp_path])   # even where the user allows
    assert not (tmp_path / "out").exists()
    # the key folder inside the scene's own folder: refused all the same
    monkeypatch.setenv("SLICER_DEIDENTIFY_HOME", str(tmp_path / "scene" / "Data"))
    (tmp_path / "scene" / "Data").mkdir()
    (tmp_path / "scene" / "Data" / "pseudonym.key").write_text("00" * 32 + "\n")
    inside = scene_pointing_at(tmp_path / "scene" / "case2.mrml", tmp_path / "scene" / "Data" / "pseudonym.key")
    with pytest.raises(SceneError, match="system or key file"):
        scrub_scene(inside, tmp_path / "out2")


def test_a_hard_link_to_the_key_is_refused_whatever_its_name(tmp_path, monkeypatch):
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "pseudonym.key").write_text("00" * 32 + "\n")
    monkeypatch.setenv("SLICER_DEIDENTIFY_HOME", str(keys))
    (tmp_path / "scene" / "Data").mkdir(parents=True)
    os.link(keys / "pseudonym.key", tmp_path / "scene" / "Data" / "volume.nrrd")
    mrml = scene_pointing_at(tmp_path / "scene" / "case.mrml", tmp_path / "scene" / "Data" / "volume.nrrd")
    for source in (mrml, tmp_path / "scene"):
        with pytest.raises(SceneError, match="key folder"):
            scrub_scene(source, tmp_path / "out")
        with pytest.raises(SceneError, match="key folder"):
            check_scene(source, PHI)
    assert not (tmp_path / "out").exists()


def test_links_are_never_followed(tmp_path):
    secret = tmp_path / "elsewhere" / "secret.nrrd"
    secret.parent.mkdir()
    secret.write_bytes(b"NRRD0004\ntype: short\nsizes: 1\nencoding: raw\n\n\x00\x00")
    (tmp_path / "scene" / "Data").mkdir(parents=True)
    (tmp_path / "scene" / "Data" / "volume.nrrd").symlink_to(secret)
    mrml = scene_pointing_at(tmp_path / "scene" / "case.mrml", tmp_path / "scene" / "Data" / "volume.nrrd")
    with pytest.raises(SceneError, match="link"):
        scrub_scene(mrml, tmp_path / "out", allowed_folders=[tmp_path])
    with pytest.raises(SceneError, match="link"):
        scrub_scene(tmp_path / "scene", tmp_path / "out")          # a scene folder holding a link
    # a linked folder on the way to an allowed file
    (tmp_path / "linked").symlink_to(tmp_path / "elsewhere")
    via = scene_pointing_at(tmp_path / "scene2" / "case.mrml", tmp_path / "linked" / "secret.nrrd")
    with pytest.raises(SceneError, match="link"):
        scrub_scene(via, tmp_path / "out", allowed_folders=[tmp_path])
    assert not (tmp_path / "out").exists()


def test_a_pipe_is_refused_without_blocking(tmp_path):
    (tmp_path / "scene" / "Data").mkdir(parents=True)
    os.mkfifo(tmp_path / "scene" / "Data" / "volume.nrrd")
    mrml = scene_pointing_at(tmp_path / "scene" / "case.mrml", tmp_path / "scene" / "Data" / "volume.nrrd")
    with pytest.raises(SceneError, match="not a regular file"):
        scrub_scene(mrml, tmp_path / "out")
    with pytest.raises(SceneError, match="special file"):
        check_scene(tmp_path / "scene", PHI)


def scene_folder_with_data_outside(root: Path) -> Path:
    """A scene folder whose volume was saved in ../Patients/DOE_JOHN/ (Slicer writes the data where
    its storage node points)."""
    scene = dicom_scene()
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    outside = root / "Patients" / "DOE_JOHN"
    outside.mkdir(parents=True)
    volume.GetStorageNode().SetFileName(str(outside / "Doe_John_T1.nrrd"))
    assert volume.GetStorageNode().WriteData(volume)
    (root / "scene").mkdir()
    scene.SetURL(str(root / "scene" / "case.mrml"))
    assert scene.Commit()
    return root / "scene"


def test_data_outside_a_scene_folder_is_refused_or_brought_in_never_dropped(tmp_path):
    folder = scene_folder_with_data_outside(tmp_path)
    with pytest.raises(SceneError, match="outside the scene's folder"):
        scrub_scene(folder, tmp_path / "clean")
    assert not (tmp_path / "clean").exists()
    result = scrub_scene(folder, tmp_path / "clean", allowed_folders=[tmp_path / "Patients"])
    assert result.report.relocated_files == ["../Patients/DOE_JOHN/Doe_John_T1.nrrd"]
    assert result.missing_files == []
    assert any(name.startswith("Data/") and name.endswith(".nrrd") for name in written(tmp_path / "clean"))
    assert check_scene(tmp_path / "clean", set(PHI) | {"DOE_JOHN"}) == []
    scene, connected = load_scene(tmp_path / "clean" / "case.mrml")
    assert connected
    assert scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetImageData().GetDimensions() == (8, 8, 3)


def bundle_with(path: Path, members: list) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name), data)
    return path


def slicer_bundle(tmp_path: Path) -> dict:
    scene = dicom_scene()
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    (tmp_path / "b").mkdir()
    assert logic.SaveSceneToSlicerDataBundleDirectory(str(tmp_path / "b"), None)
    assert logic.Zip(str(tmp_path / "b.mrb"), str(tmp_path / "b"))
    with zipfile.ZipFile(tmp_path / "b.mrb") as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}


@pytest.mark.parametrize("duplicate", ["scene/./scene.png", "scene//scene.png", "scene\\scene.png",
                                       "SCENE/Scene.PNG"])
def test_member_names_are_normalised_before_the_duplicate_check(tmp_path, duplicate):
    members = [(name.replace("b/", "scene/", 1), data) for name, data in slicer_bundle(tmp_path).items()]
    shown = b"\x89PNG\r\n\x1a\n" + b"pixels with DOE JOHN burned in"
    source = bundle_with(tmp_path / "in.mrb", members + [("scene/scene.png", blank_png(4, 4)), (duplicate, shown)])
    with pytest.raises(SceneError, match="appears twice"):
        scrub_scene(source, tmp_path / "out.mrb")
    assert not (tmp_path / "out.mrb").exists()


def test_a_screenshot_named_through_dot_slash_is_still_blanked(tmp_path):
    members = [(name.replace("b/b.", "scene/scene.", 1).replace("b/", "scene/", 1), data)
               for name, data in slicer_bundle(tmp_path).items()]
    assert "scene/scene.mrml" in dict(members)
    shown = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x05\x00\x00\x00\x03DOE^JOHN"
    source = bundle_with(tmp_path / "in.mrb", [(name.replace("scene/", "scene/./", 1), data) for name, data in members]
                         + [("scene/./scene.png", shown)])
    result = scrub_scene(source, tmp_path / "out.mrb")
    assert result.blanked_screenshots == ["scene/scene.png"]
    with zipfile.ZipFile(result.output) as archive:
        assert archive.read("scene/scene.png") == blank_png(5, 3)
        assert not any("./" in name for name in archive.namelist())


def test_the_command_line_refuses_with_one_masked_line_and_exit_2(tmp_path):
    folder = scene_folder_with_data_outside(tmp_path)
    run = subprocess.run([str(CLI), "scrub", str(folder), "--output", str(tmp_path / "clean")],
                         capture_output=True, text=True)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: ") and "outside" in run.stderr
    assert "Traceback" not in run.stderr and "DOE" not in run.stderr.upper()
    assert not (tmp_path / "clean").exists()
    allowed = subprocess.run([str(CLI), "scrub", str(folder), "--output", str(tmp_path / "clean"),
                              "--allow-folder", str(tmp_path / "Patients")], capture_output=True, text=True)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "brought into Data/" in allowed.stdout
