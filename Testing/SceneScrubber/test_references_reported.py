"""Issue 14, open items 1, 2, 3 and 7: a storage node's file: URI, absolute and backslash references,
a bundle header pointing outside, and a missing input are each reported as what really happened
(kept, brought in, refused, missing), never dropped silently. Scenes written by slicer-core."""
import subprocess
import sys
import zipfile
from pathlib import Path

import slicer

from support.scenes import dicom_scene, load_scene

CLI = Path(sys.executable).parent / "scene-scrubber"


def run(*args):
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True)


def saved_scene(folder: Path, file_name: str = "vol.nrrd") -> Path:
    scene = dicom_scene("DOE^JOHN")
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    folder.mkdir(parents=True)
    volume.GetStorageNode().SetFileName(str(folder / file_name))
    assert volume.GetStorageNode().WriteData(volume)
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    return folder / "scene.mrml"


def with_file_name(mrml: Path, new: str) -> None:
    text = mrml.read_text()
    start = text.index('fileName="') + len('fileName="')
    mrml.write_text(text[:start] + new + text[text.index('"', start):])


def test_a_file_uri_outside_the_scene_is_refused_and_one_inside_is_read(tmp_path):
    mrml = saved_scene(tmp_path / "scene")
    with_file_name(mrml, "file:///etc/hostname")
    refused = run("scrub", mrml, "--output", tmp_path / "a" / "scene.mrml")
    assert refused.returncode == 2 and "refused" in refused.stderr, refused.stdout + refused.stderr
    assert not (tmp_path / "a").exists()
    with_file_name(mrml, (tmp_path / "scene" / "vol.nrrd").as_uri())
    kept = run("scrub", mrml, "--output", tmp_path / "b" / "scene.mrml")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "outside the scene folder" not in kept.stdout and "moved into Data/" in kept.stdout, kept.stdout
    scene, ok = load_scene(tmp_path / "b" / "scene.mrml")
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    assert ok and volume.GetImageData().GetDimensions() == (8, 8, 3)
    with_file_name(mrml, "file://otherhost/data/vol.nrrd")
    other = run("scrub", mrml, "--output", tmp_path / "c" / "scene.mrml")
    assert other.returncode == 2 and "another machine" in other.stderr, other.stderr


def test_a_backslash_reference_outside_is_refused_not_reported_brought_in(tmp_path):
    mrml = saved_scene(tmp_path / "scene")
    with_file_name(mrml, "..\\..\\..\\etc\\hostname")
    refused = run("scrub", mrml, "--output", tmp_path / "out" / "scene.mrml")
    assert refused.returncode == 2 and "brought into" not in refused.stdout, refused.stdout + refused.stderr
    assert not (tmp_path / "out").exists()


def test_a_bundle_header_whose_data_file_is_outside_is_refused_not_missing(tmp_path):
    scene = dicom_scene("DOE^JOHN")
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    folder = tmp_path / "scene"
    folder.mkdir()
    volume.GetStorageNode().SetFileName(str(folder / "vol.nhdr"))
    assert volume.GetStorageNode().WriteData(volume)
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    header = folder / "vol.nhdr"
    header.write_bytes(header.read_bytes().replace(b"data file: vol.raw.gz", b"data file: ../../DOE_JOHN/vol.raw.gz"))
    bundle = tmp_path / "scene.mrb"
    assert slicer.vtkMRMLApplicationLogic().Zip(str(bundle), str(folder))
    for command in (("scrub", bundle, "--output", tmp_path / "clean.mrb"), ("check", bundle)):
        result = run(*command)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "outside the bundle: refused" in result.stderr and "DOE" not in result.stderr, result.stderr
        assert "warning" not in result.stdout
    assert not (tmp_path / "clean.mrb").exists()


def test_a_missing_input_says_not_found_and_a_wrong_suffix_says_so(tmp_path):
    for name, kind in (("Doe John.mrb", "an .mrb bundle"), ("Doe John.mrml", "a .mrml scene"),
                       ("Doe John", "a scene folder")):
        for command in ("check", "scrub"):
            extra = ("--output", tmp_path / "o.mrb") if command == "scrub" else ()
            result = run(command, tmp_path / name, *extra)
            assert result.returncode == 2 and "not found" in result.stderr and kind in result.stderr, result.stderr
            assert "Doe" not in result.stderr
    missing_txt = run("check", tmp_path / "Doe John.txt")
    assert missing_txt.returncode == 2 and "not found" in missing_txt.stderr and "'.txt'" in missing_txt.stderr
    (tmp_path / "notes.txt").write_text("x")
    wrong = run("check", tmp_path / "notes.txt")
    assert wrong.returncode == 2 and "not found" not in wrong.stderr and "'.txt' is not a scene's" in wrong.stderr
