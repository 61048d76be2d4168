"""Review of issue 14, findings 1 and 2: a detached header's data file (NRRD `data file:`, MetaImage
`ElementDataFile`) is followed, brought in or refused with the rules of storage nodes' files, and
renamed with its header; nothing is dropped silently. Scenes written and reopened by slicer-core."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import slicer

from SceneScrubberLib.detached_headers import data_file
from support.scenes import dicom_scene, load_scene

CLI = Path(sys.executable).parent / "scene-scrubber"


def volume_scene(folder: Path, file_name: str, storage_class: str = "") -> Path:
    scene = dicom_scene("DOE^JOHN")
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    if storage_class:
        storage = scene.AddNewNodeByClass(storage_class)
        volume.SetAndObserveStorageNodeID(storage.GetID())
    else:
        assert volume.AddDefaultStorageNode()
        storage = volume.GetStorageNode()
    folder.mkdir(parents=True)
    storage.SetFileName(str(folder / file_name))
    assert storage.WriteData(volume)
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    return folder / "scene.mrml"


def scrub(*args):
    return subprocess.run([str(CLI), "scrub", *map(str, args)], capture_output=True, text=True)


def image_dimensions(mrml: Path):
    scene, ok = load_scene(mrml)
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    assert ok and volume.GetImageData() is not None, mrml
    return volume.GetImageData().GetDimensions()


def test_a_mrml_with_a_detached_nrrd_header_keeps_its_data(tmp_path):
    mrml = volume_scene(tmp_path / "scene", "vol.nhdr")
    assert data_file((tmp_path / "scene" / "vol.nhdr").read_bytes(), "vol.nhdr") == "vol.raw.gz"
    run = scrub(mrml, "--output", tmp_path / "out" / "scene.mrml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "out" / "vol.raw.gz").read_bytes() == (tmp_path / "scene" / "vol.raw.gz").read_bytes()
    assert image_dimensions(tmp_path / "out" / "scene.mrml") == (8, 8, 3)


def test_a_detached_nrrd_header_named_after_the_patient_is_renamed_with_its_data_file(tmp_path):
    mrml = volume_scene(tmp_path / "scene", "Doe_John_T1.nhdr")
    run = scrub(mrml, "--output", tmp_path / "out" / "scene.mrml")
    assert run.returncode == 0, run.stdout + run.stderr
    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert not [name for name in names if "Doe" in name or "John" in name], names
    [header] = [path for path in (tmp_path / "out").iterdir() if path.suffix == ".nhdr"]
    assert (header.parent / data_file(header.read_bytes(), header.name)).is_file()
    assert image_dimensions(tmp_path / "out" / "scene.mrml") == (8, 8, 3)


def test_a_metaimage_named_after_the_patient_is_renamed_with_its_element_data_file(tmp_path):
    mrml = volume_scene(tmp_path / "scene", "Doe_John.mhd", "vtkMRMLVolumeArchetypeStorageNode")
    assert data_file((tmp_path / "scene" / "Doe_John.mhd").read_bytes(), "Doe_John.mhd") == "Doe_John.zraw"
    bundle = tmp_path / "scene.mrb"
    assert slicer.vtkMRMLApplicationLogic().Zip(str(bundle), str(tmp_path / "scene"))
    run = scrub(bundle, "--output", tmp_path / "clean.mrb")
    assert run.returncode == 0, run.stdout + run.stderr
    with zipfile.ZipFile(tmp_path / "clean.mrb") as archive:
        names = archive.namelist()
        assert not [name for name in names if "Doe" in name], names
        [header] = [name for name in names if name.endswith(".mhd")]
        reference = data_file(archive.read(header), header)
        assert reference and "Doe" not in reference
        assert header.rpartition("/")[0] + "/" + reference in names
        archive.extractall(tmp_path / "clean")
    [mrml] = (tmp_path / "clean").rglob("*.mrml")
    assert image_dimensions(mrml) == (8, 8, 3)
    check = subprocess.run([str(CLI), "check", str(tmp_path / "clean.mrb"), "--term", "Doe^John"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_a_header_whose_data_file_is_outside_the_scene_is_refused_or_brought_in(tmp_path):
    folder = tmp_path / "cases" / "scene"
    mrml = volume_scene(folder, "vol.nhdr")
    external = tmp_path / "ext" / "DOE_JOHN"
    external.mkdir(parents=True)
    shutil.move(folder / "vol.raw.gz", external / "img.raw.gz")
    header = folder / "vol.nhdr"
    header.write_bytes(header.read_bytes().replace(b"data file: vol.raw.gz", b"data file: ../../ext/DOE_JOHN/img.raw.gz"))
    for source in (mrml, folder):   # a .mrml and a scene folder
        refused = scrub(source, "--output", tmp_path / f"refused_{source.suffix or 'folder'}.mrb")
        assert refused.returncode == 2 and "refused" in refused.stderr and "DOE" not in refused.stderr, refused.stderr
        assert not (tmp_path / f"refused_{source.suffix or 'folder'}.mrb").exists()
    brought = scrub(mrml, "--output", tmp_path / "out" / "scene.mrml", "--allow-folder", tmp_path / "ext")
    assert brought.returncode == 0, brought.stdout + brought.stderr
    written = (tmp_path / "out" / "vol.nhdr").read_bytes()
    assert b"DOE" not in written and data_file(written, "vol.nhdr") == "img.raw.gz"
    assert (tmp_path / "out" / "img.raw.gz").read_bytes() == (external / "img.raw.gz").read_bytes()
    assert image_dimensions(tmp_path / "out" / "scene.mrml") == (8, 8, 3)
    header.write_bytes(header.read_bytes().replace(b"../../ext/DOE_JOHN/img.raw.gz", b"../../../../../../etc/hostname"))
    system = scrub(mrml, "--output", tmp_path / "sys" / "scene.mrml", "--allow-folder", tmp_path / "ext")
    assert system.returncode == 2 and not (tmp_path / "sys").exists()
