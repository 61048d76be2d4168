"""Closed-surface segmentations (.seg.vtm with its .vtp pieces, and a .seg.vtp) are cleaned, not
refused: segment names and tags are read and rewritten with VTK's XML readers and writers, pieces are
renamed with their file, the check agrees, and Slicer's segmentation storage node reads the output."""
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from urllib.parse import unquote
import sys
import zipfile
from pathlib import Path

import pytest
import slicer
import vtk

from SceneScrubberLib.bundles import scrub_scene
from SceneScrubberLib.mrml_scrubber import SceneError
from SceneScrubberLib.scene_check import check_scene
from support.scenes import dicom_scene, load_scene

CLI = Path(sys.executable).parent / "scene-scrubber"
SPELLINGS = ("doe", "john")


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True)


def closed_surface_scene(folder: Path, file_name: str) -> Path:
    """dicom_scene (Doe^John) with a segmentation of two spheres saved as closed surfaces by its own
    storage node (vtkMRMLSegmentationStorageNode), the volume by its NRRD storage node."""
    scene = dicom_scene()
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Segmentation")
    inner = segmentation.GetSegmentation()
    (getattr(inner, "SetSourceRepresentationName", None) or inner.SetMasterRepresentationName)("Closed surface")
    for index, (name, description) in enumerate((("John Doe tumor", "lesion of Doe"), ("Liver", "normal"))):
        sphere = vtk.vtkSphereSource()
        sphere.SetCenter(index * 3.0, 0, 0)
        sphere.SetThetaResolution(8 + index)
        sphere.Update()
        segment = slicer.vtkSegment()
        segment.SetName(name)
        segment.SetTag("Description", description)
        segment.AddRepresentation("Closed surface", sphere.GetOutput())
        inner.AddSegment(segment)
    (folder / "Data").mkdir(parents=True)
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    volume.GetStorageNode().SetFileName(str(folder / "Data/vol.nrrd"))
    assert volume.GetStorageNode().WriteData(volume)
    assert segmentation.AddDefaultStorageNode()
    segmentation.GetStorageNode().SetFileName(str(folder / "Data" / file_name))
    assert segmentation.GetStorageNode().WriteData(segmentation)
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    return folder


def segments(path: Path) -> list:
    """[(name, description tag, number of points)] of a segmentation file, as Slicer reads it."""
    scene = slicer.vtkMRMLScene()
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    storage = scene.AddNewNodeByClass("vtkMRMLSegmentationStorageNode")
    node.SetAndObserveStorageNodeID(storage.GetID())
    storage.SetFileName(str(path))
    assert storage.ReadData(node), path
    inner = node.GetSegmentation()
    out = []
    for index in range(inner.GetNumberOfSegments()):
        segment = inner.GetNthSegment(index)
        tag = vtk.reference("")
        segment.GetTag("Description", tag)
        out.append((segment.GetName(), str(tag), segment.GetRepresentation("Closed surface").GetNumberOfPoints()))
    return out


def assert_listed_files_exist(mrml: Path) -> None:
    """The segmentation storage node's fileName and fileListMember<n> (its pieces) name files that exist."""
    [storage] = ET.parse(mrml).getroot().iter("SegmentationStorage")
    listed = [value for key, value in storage.attrib.items() if key == "fileName" or key.startswith("fileListMember")]
    assert len(listed) >= 4, listed   # fileName, the file and two pieces
    for value in listed:
        assert (mrml.parent / unquote(value)).is_file(), (value, listed)


def every_file(folder: Path) -> list:
    return [path for path in folder.rglob("*") if path.is_file()]


@pytest.mark.parametrize("file_name", ["DOE_JOHN.seg.vtm", "DOE_JOHN.seg.vtp"])
@pytest.mark.parametrize("as_bundle", [False, True])
def test_a_closed_surface_segmentation_is_cleaned_and_slicer_reads_it(tmp_path, file_name, as_bundle):
    folder = closed_surface_scene(tmp_path / "scene", file_name)
    original = segments(folder / "Data" / file_name)
    assert [name for name, _tag, _points in original] == ["John Doe tumor", "Liver"]
    source = folder
    if as_bundle:
        source = tmp_path / "scene.mrb"
        assert slicer.vtkMRMLApplicationLogic().Zip(str(source), str(folder))
    found = run("check", source)   # the names are zlib-compressed inside the pieces: read by VTK
    assert found.returncode == 1 and ".vtp at byte 0" in found.stdout, found.stdout + found.stderr
    output = tmp_path / ("clean.mrb" if as_bundle else "clean")
    done = run("scrub", source, "--output", output)
    assert done.returncode == 0, done.stdout + done.stderr
    assert run("check", output).returncode == 0
    if as_bundle:
        with zipfile.ZipFile(output) as archive:
            archive.extractall(tmp_path / "extracted")
        output = next((tmp_path / "extracted").iterdir())
    for path in every_file(output):
        assert not any(part in str(path.relative_to(output)).lower() for part in SPELLINGS), path
    surfaces = [path for path in every_file(output) if path.name.endswith(file_name[-8:])]
    assert len(surfaces) == 1, surfaces
    pieces = [path for path in every_file(output) if path.suffix == ".vtp" and path not in surfaces]
    assert len(pieces) == 2 and all(path.parent.name == surfaces[0].name[:-4] for path in pieces), pieces
    cleaned = segments(surfaces[0])
    assert [points for _name, _tag, points in cleaned] == [points for _name, _tag, points in original]
    assert cleaned[1][:2] == ("Liver", "normal")
    assert "tumor" in cleaned[0][0] and "lesion of" in cleaned[0][1]
    assert not any(part in (name + tag).lower() for name, tag, _points in cleaned for part in SPELLINGS), cleaned
    assert_listed_files_exist(next(output.glob("*.mrml")))
    # the whole scene, as Slicer opens it: the segmentation node reads the renamed file
    scene, ok = load_scene(next(output.glob("*.mrml")))
    assert ok
    node = scene.GetFirstNodeByClass("vtkMRMLSegmentationNode")
    assert node.GetStorageNode().ReadData(node)
    assert node.GetSegmentation().GetNumberOfSegments() == 2


def test_a_damaged_piece_is_refused_and_a_missing_one_too(tmp_path):
    folder = closed_surface_scene(tmp_path / "scene", "Seg.seg.vtm")
    piece = folder / "Data/Seg.seg/Seg.seg_0.vtp"
    data = piece.read_bytes()
    start = data.index(b"<Points>")
    start = data.index(b"AQAAAACAAA", start) + 12
    piece.write_bytes(data[:start] + b"!!!!" * 4 + data[start + 16:])
    for source in (folder,):
        with pytest.raises(SceneError, match=r"a piece of file \d+ \(\.seg\.vtm\) of the scene cannot be read"):
            scrub_scene(source, tmp_path / "out")
    piece.unlink()
    with pytest.raises(SceneError, match="is not in the scene"):
        scrub_scene(folder, tmp_path / "out")
    assert not os.path.lexists(tmp_path / "out")
    done = run("scrub", folder, "--output", tmp_path / "out")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr


def test_a_segmentation_brought_in_from_an_allowed_folder_keeps_its_pieces(tmp_path):
    folder = closed_surface_scene(tmp_path / "scene", "DOE_JOHN.seg.vtm")
    (tmp_path / "outside").mkdir()
    for name in ("DOE_JOHN.seg.vtm", "DOE_JOHN.seg"):
        shutil.move(str(folder / "Data" / name), tmp_path / "outside")
    mrml = folder / "scene.mrml"
    mrml.write_text(mrml.read_text().replace("Data/DOE_JOHN.seg", "../outside/DOE_JOHN.seg"))   # as if saved there
    refused = run("scrub", mrml, "--output", tmp_path / "refused" / "scene.mrml")
    assert refused.returncode == 2 and "outside the scene's folder" in refused.stderr, refused.stderr
    done = run("scrub", mrml, "--output", tmp_path / "out" / "scene.mrml", "--allow-folder", tmp_path / "outside")
    assert done.returncode == 0, done.stdout + done.stderr
    assert_listed_files_exist(tmp_path / "out" / "scene.mrml")
    [surface] = (tmp_path / "out").rglob("*.vtm")
    shutil.rmtree(tmp_path / "outside")
    cleaned = segments(surface)
    assert [name for name, _tag, _points in cleaned][1] == "Liver" and "Doe" not in cleaned[0][0]
