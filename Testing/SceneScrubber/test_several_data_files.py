"""Detached headers that name several data files (NRRD `data file: LIST` and a pattern, MetaImage
`ElementDataFile = LIST` and a pattern): every file is followed under the folder rules of a single one,
renamed, and the header rewritten so that Slicer reads the same voxels. Volumes written by slicer-core's
storage nodes (uncompressed), their data then split into one file per slice as such headers name them."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import slicer
from vtk.util.numpy_support import vtk_to_numpy

from support.scenes import dicom_scene, load_scene

CLI = Path(sys.executable).parent / "scene-scrubber"
SLICE = 8 * 8 * 2   # dicom_scene's volume: 8 x 8 x 3 shorts


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True)


def split_scene(folder: Path, suffix: str, kind: str, data_folder: str = ".") -> Path:
    """A scene whose volume's header (`suffix` .nhdr or .mhd) names its three slices as `kind`
    ('list' or 'pattern'), the slices named after the patient (DOE^JOHN) in `data_folder`."""
    scene = dicom_scene("DOE^JOHN")
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    volume.GetImageData().GetPointData().GetScalars().Fill(0)
    for index in range(8 * 8 * 3):
        volume.GetImageData().GetPointData().GetScalars().SetValue(index, index)
    storage = scene.AddNewNodeByClass("vtkMRMLNRRDStorageNode" if suffix == ".nhdr" else
                                      "vtkMRMLVolumeArchetypeStorageNode")
    volume.SetAndObserveStorageNodeID(storage.GetID())
    storage.SetUseCompression(0)
    folder.mkdir(parents=True)
    storage.SetFileName(str(folder / f"vol{suffix}"))
    assert storage.WriteData(volume)
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    header = (folder / f"vol{suffix}").read_text(encoding="latin-1")
    raw = next(path for path in folder.iterdir() if path.suffix == ".raw")
    data = raw.read_bytes()
    raw.unlink()
    assert len(data) == 3 * SLICE
    where = (folder / data_folder).resolve()
    where.mkdir(parents=True, exist_ok=True)
    names = [f"DOE_JOHN_{index:03d}.raw" for index in range(3)]
    for index, name in enumerate(names):
        (where / name).write_bytes(data[index * SLICE:(index + 1) * SLICE])
    prefix = "" if data_folder == "." else data_folder.rstrip("/") + "/"
    key = "data file: " if suffix == ".nhdr" else "ElementDataFile = "
    line = next(line for line in header.split("\n") if line.startswith(key))
    if kind == "list":
        new = key + ("LIST 2\n" if suffix == ".nhdr" else "LIST 2D\n") + "\n".join(prefix + name for name in names)
    else:
        new = key + f"{prefix}DOE_JOHN_%03d.raw 0 2 1" + (" 2" if suffix == ".nhdr" else "")
    # LIST must be the header's last field (NRRD and MetaIO): the line moves to the end
    header = "\n".join(kept for kept in header.rstrip("\n").split("\n") if kept != line) + "\n" + new + "\n"
    (folder / f"vol{suffix}").write_text(header, encoding="latin-1")
    return folder / "scene.mrml"


def voxels(mrml: Path):
    scene, ok = load_scene(mrml)
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    assert ok and volume.GetImageData() is not None, mrml
    return volume.GetImageData().GetDimensions(), list(vtk_to_numpy(volume.GetImageData().GetPointData().GetScalars()))


@pytest.mark.parametrize("suffix", [".nhdr", ".mhd"])
@pytest.mark.parametrize("kind", ["list", "pattern"])
@pytest.mark.parametrize("source_kind", ["mrml", "folder"])
def test_every_data_file_is_renamed_and_the_header_follows(tmp_path, suffix, kind, source_kind):
    mrml = split_scene(tmp_path / "scene", suffix, kind)
    before = voxels(mrml)
    assert before[0] == (8, 8, 3) and before[1][:3] == [0, 1, 2]
    source = mrml if source_kind == "mrml" else mrml.parent
    assert run("check", source).returncode == 1
    output = tmp_path / "out" / "scene.mrml" if source_kind == "mrml" else tmp_path / "out"
    done = run("scrub", source, "--output", output)
    assert done.returncode == 0, done.stdout + done.stderr
    out_folder = tmp_path / "out"
    names = sorted(path.name for path in out_folder.rglob("*") if path.is_file())
    assert not any("doe" in name.lower() or "john" in name.lower() for name in names), names
    assert sum(name.endswith(".raw") for name in names) == 3, names
    assert run("check", output).returncode == 0
    assert voxels(out_folder / "scene.mrml") == before


@pytest.mark.parametrize("kind", ["list", "pattern"])
def test_data_files_outside_the_scene_folder_are_refused_or_brought_in(tmp_path, kind):
    mrml = split_scene(tmp_path / "scene", ".nhdr", kind, data_folder="../slices")
    before = voxels(mrml)
    refused = run("scrub", mrml, "--output", tmp_path / "out" / "scene.mrml")
    assert refused.returncode == 2 and "outside the scene's folder" in refused.stderr, refused.stderr
    assert not (tmp_path / "out").exists()
    done = run("scrub", mrml, "--output", tmp_path / "in" / "scene.mrml", "--allow-folder", tmp_path / "slices")
    assert done.returncode == 0, done.stdout + done.stderr
    raws = sorted(path.relative_to(tmp_path / "in").as_posix() for path in (tmp_path / "in").rglob("*.raw"))
    assert len(raws) == 3 and all("doe" not in name.lower() for name in raws), raws
    shutil.rmtree(tmp_path / "slices")   # the output no longer needs the folder outside
    assert voxels(tmp_path / "in" / "scene.mrml") == before
