"""Issue 14, item 5: the header check (DICOM.* keys left in NRRD headers) is the library's decision,
done whether or not a caller passes a policy; the panel passes the one it scrubs with."""
import ast
import subprocess
import sys
from pathlib import Path

from SceneScrubberLib.policy import ScrubPolicy
from SceneScrubberLib.scene_check import check_scene
from support.scenes import dicom_scene

CLI = Path(sys.executable).parent / "scene-scrubber"
ROOT = Path(__file__).resolve().parents[2]


def saved(folder: Path) -> Path:
    scene = dicom_scene()
    folder.mkdir(parents=True)
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    volume.GetStorageNode().SetFileName(str(folder / "vol.nrrd"))
    assert volume.GetStorageNode().WriteData(volume)
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    return folder


def test_check_without_a_policy_finds_dicom_keys_put_back_into_a_header(tmp_path):
    folder = saved(tmp_path / "scene")
    original = (folder / "vol.nrrd").read_bytes()
    assert b"DICOM.instanceUIDs:=1.2.840.99.3 1.2.840.99.4" in original
    done = subprocess.run([str(CLI), "scrub", str(folder), "--output", str(tmp_path / "clean")], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert check_scene(tmp_path / "clean", []) == []
    (tmp_path / "clean/vol.nrrd").write_bytes(original)   # the original header put back
    # no policy, no terms (the panel's call before: check_scene(path, matcher)): the header is a finding
    findings = check_scene(tmp_path / "clean", [])
    assert ("vol.nrrd", "1.2.840.99.3 1.2.840.99.4") in {(finding.file, finding.term) for finding in findings}
    # a policy that keeps UIDs keeps that key: not a finding then
    assert check_scene(tmp_path / "clean", [], policy=ScrubPolicy(keep_uids=True)) == []


def test_the_panel_passes_its_policy_to_check():
    tree = ast.parse((ROOT / "SceneScrubber" / "SceneScrubber.py").read_text())
    [method] = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "checkFile"]
    [call] = [node for node in ast.walk(method) if isinstance(node, ast.Call) and ast.unparse(node.func) == "check_scene"]
    assert [ast.unparse(keyword.value) for keyword in call.keywords if keyword.arg == "policy"] == ["policy"]
