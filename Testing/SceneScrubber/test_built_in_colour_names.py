"""Issue 14, open item 6: a built-in colour's name where Slicer's vocabulary sits (the node attribute
"Color:grey", the Grey table's id) is not identity for a patient named Grey; free text holding it (a node
named "Grey scan of Grey John") is scrubbed. Scenes written and reopened by slicer-core."""
import subprocess
import sys
from pathlib import Path

from support.scenes import dicom_scene, load_scene

CLI = Path(sys.executable).parent / "scene-scrubber"


def test_color_grey_stays_for_a_patient_named_grey_and_free_text_goes(tmp_path):
    scene = dicom_scene("Grey^John")
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    volume.SetName("Grey scan of Grey John")
    folder = tmp_path / "scene"
    folder.mkdir()
    volume.GetStorageNode().SetFileName(str(folder / "vol.nrrd"))
    assert volume.GetStorageNode().WriteData(volume)
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    assert "Color:grey" in (folder / "scene.mrml").read_text()
    run = subprocess.run([str(CLI), "scrub", str(folder / "scene.mrml"), "--output", str(tmp_path / "out" / "scene.mrml")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    reopened, ok = load_scene(tmp_path / "out" / "scene.mrml")
    clean = reopened.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    assert ok and clean.GetAttribute("Color") == "grey"
    assert "Grey" not in clean.GetName() and "John" not in clean.GetName()
    check = subprocess.run([str(CLI), "check", str(tmp_path / "out" / "scene.mrml"), "--term", "Grey^John"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    flagged = subprocess.run([str(CLI), "check", str(folder / "scene.mrml")], capture_output=True, text=True)
    assert flagged.returncode == 1 and "scene.mrml at byte" in flagged.stdout, flagged.stdout
