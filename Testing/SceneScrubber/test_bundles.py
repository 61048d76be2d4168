"""Scene folders and .mrb bundles scrubbed and checked offline; hostile bundles refused."""
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
import slicer

from SceneScrubberLib.bundles import scrub_nrrd_header, scrub_scene
from SceneScrubberLib.scene_check import check_scene, identifying_terms
from SceneScrubberLib.mrml_scrubber import SceneError
from support.scenes import PHI, dicom_scene, hierarchy_items

CLI = Path(sys.executable).parent / "scene-scrubber"
def saved_bundle(folder: Path) -> tuple:
    """A scene as DICOM loading leaves it, saved as Slicer saves an .mrb: (bundle folder, .mrb)."""
    scene = dicom_scene()
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    bundle = folder / "scene"
    bundle.mkdir(parents=True)
    assert logic.SaveSceneToSlicerDataBundleDirectory(str(bundle), None)
    assert logic.Zip(str(folder / "scene.mrb"), str(bundle))
    return bundle, folder / "scene.mrb"


def open_bundle(path: Path):
    scene = slicer.vtkMRMLScene()
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    assert logic.OpenSlicerDataBundle(str(path), tempfile.mkdtemp())
    return scene


def test_an_mrb_is_scrubbed_checked_and_still_opens(tmp_path):
    _, mrb = saved_bundle(tmp_path)
    before = check_scene(mrb, PHI)
    kinds = {f.file.rsplit(".", 1)[-1] for f in before}
    assert "mrml" in kinds and kinds & {"nrrd", "nhdr"}   # identity in the scene and in the NRRD header
    result = scrub_scene(mrb, tmp_path / "clean.mrb")
    assert check_scene(result.output, PHI) == []
    assert check_scene(result.output, result.report.identifying_values) == []
    scene = open_bundle(result.output)
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    assert volume.GetName() == "3: Axial" and volume.GetImageData().GetDimensions() == (8, 8, 3)
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    assert [sh.GetItemName(item) for item in hierarchy_items(scene)][:2] == ["Patient 1", "Study 1"]
    # every other member is byte for byte what it was
    with zipfile.ZipFile(mrb) as old, zipfile.ZipFile(result.output) as new:
        assert old.namelist() == new.namelist()
        for name in old.namelist():
            if not name.endswith((".mrml", ".nrrd", ".nhdr")):
                assert old.read(name) == new.read(name), name


def test_a_scene_folder_is_scrubbed(tmp_path):
    bundle, _ = saved_bundle(tmp_path)
    assert identifying_terms(bundle) >= {"Doe^John", "MRN12345"}
    result = scrub_scene(bundle, tmp_path / "clean")
    assert check_scene(result.output, PHI) == []
    assert sorted(p.name for p in (tmp_path / "clean").rglob("*") if p.is_file()) == \
        sorted(p.name for p in bundle.rglob("*") if p.is_file())


def test_nrrd_headers_lose_dicom_keys_and_keep_the_rest():
    data = b"NRRD0005\ntype: short\nsizes: 2 2\nDICOM.PatientName:=Doe^John\nColor:=grey\n\n\x00\x01\x02\x03"
    scrubbed, removed = scrub_nrrd_header(data)
    assert removed == ["Doe^John"]
    assert scrubbed == b"NRRD0005\ntype: short\nsizes: 2 2\nColor:=grey\n\n\x00\x01\x02\x03"


def hostile(path: Path, members: dict, link: str = "") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


MRML = b'<?xml version="1.0"?><MRML version="5.8"></MRML>'


@pytest.mark.parametrize("members, link, reason", [
    ({"scene/../../evil.mrml": MRML}, "", "outside the bundle"),
    ({"/tmp/evil.mrml": MRML}, "", "outside the bundle"),
    ({"scene/scene.mrml": MRML}, "scene/Data/link.nrrd", "is a link"),
    ({"scene/scene.mrml": b'<!DOCTYPE MRML [<!ENTITY a "x">]><MRML>&a;</MRML>'}, "", "DOCTYPE"),
    ({"scene/readme.txt": b"no scene here"}, "", "no .mrml"),
])
def test_hostile_bundles_are_refused_and_nothing_is_written(tmp_path, members, link, reason):
    source = hostile(tmp_path / "in.mrb", members, link)
    with pytest.raises(SceneError, match=reason):
        scrub_scene(source, tmp_path / "clean.mrb")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mrb"]
    assert not Path("/tmp/evil.mrml").exists()


def test_a_truncated_bundle_is_refused(tmp_path):
    _, mrb = saved_bundle(tmp_path)
    cut = tmp_path / "cut.mrb"
    cut.write_bytes(mrb.read_bytes()[: mrb.stat().st_size // 2])
    with pytest.raises(SceneError, match="archive"):
        scrub_scene(cut, tmp_path / "clean.mrb")
    assert not (tmp_path / "clean.mrb").exists()


def test_the_command_line_scrubs_then_checks(tmp_path):
    _, mrb = saved_bundle(tmp_path)
    dirty = subprocess.run([str(CLI), "check", str(mrb)], capture_output=True, text=True)
    assert dirty.returncode == 1 and "scene.mrml" in dirty.stdout and "Doe^John" not in dirty.stdout
    clean = subprocess.run([str(CLI), "scrub", str(mrb), "--output", str(tmp_path / "clean.mrb"),
                            "--term", "Head CT"], capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no identifying value found" in clean.stdout
    broken = subprocess.run([str(CLI), "check", str(tmp_path / "missing.mrb")], capture_output=True, text=True)
    assert broken.returncode == 2


def test_data_files_named_after_a_series_description_get_neutral_names(tmp_path):
    """Saving names data files after their nodes ("3: <series description>"): scrubbing renames the
    files, the scene's references to them and the header's 'data file' line, consistently."""
    scene = dicom_scene(series_description="Axial")
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    (tmp_path / "bundle").mkdir()
    assert logic.SaveSceneToSlicerDataBundleDirectory(str(tmp_path / "bundle"), None)
    assert logic.Zip(str(tmp_path / "scene.mrb"), str(tmp_path / "bundle"))
    with zipfile.ZipFile(tmp_path / "scene.mrb") as bundle:
        assert any("Axial" in name for name in bundle.namelist())
    result = subprocess.run([str(CLI), "scrub", str(tmp_path / "scene.mrb"), "--output", str(tmp_path / "out.mrb")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    assert check_scene(tmp_path / "out.mrb", {"Axial"}) == []
    with zipfile.ZipFile(tmp_path / "out.mrb") as bundle:
        names = bundle.namelist()
    assert any(name.endswith("Data/Volume_1.nhdr") for name in names)
    assert any(name.endswith("Data/Volume_1.raw.gz") for name in names)
    reopened = open_bundle(tmp_path / "out.mrb")
    volume = reopened.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    assert volume.GetName() == "Volume 1" and volume.GetImageData().GetDimensions() == (8, 8, 3)
    # the same for a scene folder
    folder = scrub_scene(tmp_path / "bundle", tmp_path / "clean")
    assert check_scene(folder.output, {"Axial"}) == []
    assert (tmp_path / "clean" / "Data" / "Volume_1.raw.gz").exists()


def test_a_rename_that_would_overwrite_another_file_is_refused(tmp_path):
    scene = dicom_scene(series_description="Axial")
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    (tmp_path / "bundle").mkdir()
    assert logic.SaveSceneToSlicerDataBundleDirectory(str(tmp_path / "bundle"), None)
    (tmp_path / "bundle" / "Data" / "Volume_1.nhdr").write_bytes(b"NRRD0004\ntype: short\n\n")   # already there
    with pytest.raises(SceneError, match="two files one"):
        scrub_scene(tmp_path / "bundle", tmp_path / "clean")
    assert not (tmp_path / "clean").exists()
