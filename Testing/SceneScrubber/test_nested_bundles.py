"""Bundles inside a scene (a sequence saved by vtkMRMLSequenceStorageNode as '.seq.mrb') are scrubbed
in turn with the same rules and values, instead of refused; bundles nested too deep are refused."""
import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import slicer

from SceneScrubberLib.bundles import scrub_scene
from SceneScrubberLib.mrml_scrubber import SceneError
from SceneScrubberLib.scene_check import check_scene
from SceneScrubberLib.scene_sources import MAX_NESTING
from support.scenes import dicom_scene

CLI = Path(sys.executable).parent / "scene-scrubber"
SPELLINGS = (b"doe", b"john", b"mrn12345", b"12345")


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True)


def sequence_scene(folder: Path) -> Path:
    """dicom_scene (Doe^John, MRN12345) with a sequence of two text nodes named after the patient,
    saved by its storage node as 'John Doe visits.seq.mrb' (a bundle with the sequence's own scene)."""
    scene = dicom_scene()
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "John Doe visits")
    for index in range(2):
        text = slicer.vtkMRMLTextNode()
        text.SetName(f"Doe John note {index}")
        text.SetText(f"John Doe visit {index}, MRN12345")
        sequence.SetDataNodeAtValue(text, str(index))
    (folder / "Data").mkdir(parents=True)
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    volume.GetStorageNode().SetFileName(str(folder / "Data/vol.nrrd"))
    assert volume.GetStorageNode().WriteData(volume)
    assert sequence.AddDefaultStorageNode()
    sequence.GetStorageNode().SetFileName(str(folder / "Data/John Doe visits.seq.mrb"))
    assert sequence.GetStorageNode().WriteData(sequence)
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    return folder


def members(data: bytes, prefix: str = "") -> dict:
    """{name: bytes} of a bundle's files, those of bundles inside it under 'outer/inner'."""
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.endswith("/"):
                continue
            content = archive.read(name)
            out[prefix + name] = content
            if name.lower().endswith(".mrb"):
                out.update(members(content, prefix + name + "/"))
    return out


@pytest.mark.parametrize("as_bundle", [False, True])
def test_a_sequence_bundle_inside_a_scene_is_scrubbed_and_slicer_reads_it(tmp_path, as_bundle):
    folder = sequence_scene(tmp_path / "scene")
    source = folder
    if as_bundle:
        source = tmp_path / "scene.mrb"
        assert slicer.vtkMRMLApplicationLogic().Zip(str(source), str(folder))
    found = run("check", source)   # the text is deflated inside the inner bundle: read through it
    assert found.returncode == 1 and ".seq.mrb/" in found.stdout, found.stdout + found.stderr
    output = tmp_path / "clean.mrb"
    done = run("scrub", source, "--output", output)
    assert done.returncode == 0, done.stdout + done.stderr
    assert run("check", output).returncode == 0
    files = members(output.read_bytes())
    nested = [name for name in files if name.endswith(".seq.mrb")]
    assert len(nested) == 1 and any(name.startswith(nested[0] + "/") and name.endswith(".mrml") for name in files)
    for name, content in files.items():
        assert not any(spelling in name.lower().encode() for spelling in SPELLINGS), name
        if not name.endswith((".mrb", ".nrrd")):
            assert not any(spelling in content.lower() for spelling in SPELLINGS), (name, content[:400])
    # Slicer opens the scrubbed scene and its sequence storage node reads the inner bundle
    with zipfile.ZipFile(output) as archive:
        archive.extractall(tmp_path / "extracted")
    scene = slicer.vtkMRMLScene()
    cache = slicer.vtkCacheManager()   # ReadFromMRB unpacks a bundle into the remote cache folder
    cache.SetRemoteCacheDirectory(str(tmp_path / "cache"))
    manager = slicer.vtkDataIOManager()
    manager.SetCacheManager(cache)
    scene.SetDataIOManager(manager)
    scene.SetURL(str(next((tmp_path / "extracted").rglob("*.mrml"))))
    assert scene.Connect()
    sequence = scene.GetFirstNodeByClass("vtkMRMLSequenceNode")
    assert sequence.GetStorageNode().ReadData(sequence)
    assert sequence.GetNumberOfDataNodes() == 2
    texts = [sequence.GetNthDataNode(index).GetText() for index in range(2)]
    assert all(text.startswith("* visit") or "visit" in text for text in texts), texts
    assert not any(part in text.lower() for text in texts for part in ("doe", "john", "12345")), texts


def _wrapped(inner: Path, folder: Path, level: int) -> Path:
    """A scene (slicer-core) whose sequence node's storage file is `inner`, zipped as Slicer zips a bundle."""
    scene = slicer.vtkMRMLScene()
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", f"Level {level}")
    storage = scene.AddNewNodeByClass("vtkMRMLSequenceStorageNode")
    sequence.SetAndObserveStorageNodeID(storage.GetID())
    (folder / "Data").mkdir(parents=True)
    shutil.copy(inner, folder / "Data" / f"level{level}.seq.mrb")
    storage.SetFileName(str(folder / "Data" / f"level{level}.seq.mrb"))
    scene.SetURL(str(folder / f"level{level}.mrml"))
    assert scene.Commit()
    bundle = folder.parent / f"level{level}.mrb"
    assert slicer.vtkMRMLApplicationLogic().Zip(str(bundle), str(folder))
    return bundle


def test_bundles_nested_deeper_than_the_limit_are_refused(tmp_path):
    folder = sequence_scene(tmp_path / "scene")
    bundle = folder / "Data/John Doe visits.seq.mrb"
    for level in range(1, MAX_NESTING + 1):   # MAX_NESTING bundles around the sequence's: accepted
        bundle = _wrapped(bundle, tmp_path / f"level{level}", level)
    scrub_scene(bundle, tmp_path / "ok.mrb", terms=["John Doe"])
    scenes = {name: content for name, content in members((tmp_path / "ok.mrb").read_bytes()).items()
              if name.endswith(".mrml")}
    assert len(scenes) == MAX_NESTING + 1   # the innermost, the sequence's own scene, was scrubbed too
    assert not any(b"john doe" in content.lower() for content in scenes.values()), scenes
    deeper = _wrapped(bundle, tmp_path / "deeper", MAX_NESTING + 1)
    with pytest.raises(SceneError, match=f"nested more than {MAX_NESTING} deep"):
        scrub_scene(deeper, tmp_path / "out.mrb")
    with pytest.raises(SceneError, match=f"nested more than {MAX_NESTING} deep"):
        check_scene(deeper, ["Doe^John"])
    done = run("scrub", deeper, "--output", tmp_path / "out.mrb")
    assert done.returncode == 2 and "nested more than" in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "out.mrb").exists()
