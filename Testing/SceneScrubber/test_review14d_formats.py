"""Review 14d's file-format findings (L3, L4, L6, L7, L9, L10, W2, C1, M1, M2, M4): each with a scene
built by slicer-core's real MRML classes, saved by its storage nodes, scrubbed and checked through
the command line (`python -m SceneScrubberLib`, the code under test), and the output's raw bytes
searched (the finding's number in each test's name)."""
import gzip
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import slicer
import vtk

from SceneScrubberLib import compressed_files
from SceneScrubberLib.bundles import scrub_scene
from SceneScrubberLib.mrml_scrubber import SceneError
from SceneScrubberLib.scene_check import check_scene
from support.scenes import dicom_scene, load_scene

VALUES = {"Doe^John", "MRN12345"}


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "SceneScrubberLib", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def saved(scene, folder: Path, written=()) -> Path:
    """Every storable node (but those in `written`, whose files are written already) written into
    folder/Data by its own storage node, then the .mrml."""
    (folder / "Data").mkdir(parents=True, exist_ok=True)
    for index in range(scene.GetNumberOfNodes()):
        node = scene.GetNthNode(index)
        if node.IsA("vtkMRMLStorableNode") and node.GetStorageNode() is not None and node not in written:
            storage = node.GetStorageNode()
            if not storage.GetFileName():
                storage.SetFileName(str(folder / "Data" / f"node{index}.{storage.GetDefaultWriteFileExtension()}"))
            assert storage.WriteData(node), node.GetID()
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    return folder / "scene.mrml"


def volume_as(scene, folder: Path, file_name: str, write) -> Path:
    """The scene's volume stored as `file_name` (written by `write(image, path)`) through a volume
    archetype storage node, as Slicer reads NIfTI and MetaImage volumes; the scene saved."""
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    scene.RemoveNode(scene.GetNodeByID(volume.GetStorageNodeID()))
    (folder / "Data").mkdir(parents=True, exist_ok=True)
    path = folder / "Data" / file_name
    write(volume.GetImageData(), path)
    storage = scene.AddNewNodeByClass("vtkMRMLVolumeArchetypeStorageNode")
    storage.SetFileName(str(path))
    volume.SetAndObserveStorageNodeID(storage.GetID())
    return saved(scene, folder, [volume])


def write_nifti(image, path: Path) -> None:
    writer = vtk.vtkNIFTIImageWriter()
    writer.SetInputData(image)
    writer.SetFileName(str(path))
    writer.Write()
    assert path.is_file()


def raw_holds(folder: Path, *needles: bytes) -> list:
    """Files under `folder` whose raw bytes hold a needle (any case)."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()
                  and any(needle.lower() in path.read_bytes().lower() for needle in needles))


def reopened_volume(mrml: Path):
    scene, ok = load_scene(mrml)
    assert ok
    image = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetImageData()
    assert image is not None and image.GetDimensions() == (8, 8, 3)
    return image


# --- L4, M4: gzip -------------------------------------------------------------------------------

def test_L4_gzip_header_file_name_and_comment_are_found_and_dropped(tmp_path):
    folder = tmp_path / "in"

    def write(image, path):
        plain = tmp_path / "plain.nii"
        write_nifti(image, plain)
        with open(path, "wb") as out:   # as `gzip` and Python record the original file name
            with gzip.GzipFile(filename="Doe_John_MRN12345_T1.nii", fileobj=out, mode="wb", mtime=0) as writer:
                writer.write(plain.read_bytes())

    mrml = volume_as(dicom_scene(), folder, "t1.nii.gz", write)
    # a second member whose header has FCOMMENT (Python's gzip never writes one: set by hand, RFC 1952)
    comment = bytearray(gzip.compress(b"", mtime=0))
    comment[3] |= 16
    comment[10:10] = b"scan of John Doe\0"
    (folder / "Data" / "t1.nii.gz").write_bytes((folder / "Data" / "t1.nii.gz").read_bytes() + bytes(comment))
    assert raw_holds(folder / "Data", b"Doe_John")
    assert "Data/t1.nii.gz" in {finding.file for finding in check_scene(folder, VALUES)}
    assert run("check", folder, "--term", "MRN12345").returncode == 1
    scrub = run("scrub", mrml, "--output", tmp_path / "out")
    assert scrub.returncode == 0, scrub.stdout + scrub.stderr
    assert raw_holds(tmp_path / "out", b"doe", b"john", b"12345") == []
    written = (tmp_path / "out" / "Data" / "t1.nii.gz").read_bytes()
    assert written[3] & (4 | 8 | 16) == 0   # no FEXTRA, FNAME or FCOMMENT
    assert run("check", tmp_path / "out", "--term", "Doe John").returncode == 0
    reopened_volume(tmp_path / "out" / "scene.mrml")


def test_M4_decompression_is_streamed_and_bounded(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    mrml = saved(dicom_scene(), folder)
    (folder / "notes.bin.gz").write_bytes(gzip.compress(b"\x00\xff" * (4 << 20)))
    # a smaller bound than 16 GiB for the test: the stream is refused once it decompresses past it
    monkeypatch.setattr(compressed_files, "MAX_DECOMPRESSED_BYTES", 2 << 20)
    with pytest.raises(SceneError, match="decompresses to more than"):
        scrub_scene(folder, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(SceneError, match=r"file \d+ \(\.bin\.gz\) of the scene cannot be checked"):
        check_scene(folder, VALUES)
    # the decompressed content is never written to disk: only the compressed bytes are staged
    staged = []
    real = compressed_files.staged_gzip
    monkeypatch.setattr(compressed_files, "staged_gzip",
                        lambda head, source: staged.append(real(head, source)) or staged[-1])
    monkeypatch.setattr(compressed_files, "MAX_DECOMPRESSED_BYTES", 16 << 30)
    scrub_scene(mrml.parent, tmp_path / "out2")
    compressed = (folder / "notes.bin.gz").stat().st_size   # 8 MiB decompressed
    assert compressed in [size for _raw, size in staged] and max(size for _raw, size in staged) == compressed
    # a bomb beyond deflate's ratio is refused by the ratio bound
    stream = compressed_files.GzipStream(__import__("io").BytesIO(gzip.compress(b"\0" * (8 << 20))), 100)
    with pytest.raises(compressed_files.CompressedError):
        stream.drain()


# --- L6, L7: NIfTI char fields --------------------------------------------------------------------

NIFTI1_FIELDS = {"data_type": (4, 10), "db_name": (14, 18), "descrip": (148, 80), "aux_file": (228, 24),
                 "intent_name": (328, 16)}


@pytest.mark.parametrize("field", sorted(NIFTI1_FIELDS))
@pytest.mark.parametrize("spelling", ["JDoe", "Doe, J", "MRN12345"])
def test_L7_every_nifti1_char_field_is_scrubbed(tmp_path, field, spelling):
    folder = tmp_path / "in"
    offset, length = NIFTI1_FIELDS[field]

    def write(image, path):
        write_nifti(image, path)
        data = bytearray(path.read_bytes())
        data[offset:offset + length] = spelling.encode()[:length].ljust(length, b"\0")
        path.write_bytes(bytes(data))

    mrml = volume_as(dicom_scene(), folder, "t1.nii", write)
    assert "Data/t1.nii" in {finding.file for finding in check_scene(folder, VALUES)}
    scrub = run("scrub", mrml, "--output", tmp_path / "out")
    assert scrub.returncode == 0, scrub.stdout + scrub.stderr
    assert raw_holds(tmp_path / "out", spelling.encode()) == []
    reopened_volume(tmp_path / "out" / "scene.mrml")


def test_L6_nifti_text_is_read_as_utf8_in_scrub_and_check(tmp_path):
    folder = tmp_path / "in"

    def write(image, path):
        writer = vtk.vtkNIFTIImageWriter()
        writer.SetInputData(image)
        writer.SetFileName(str(path))
        writer.Write()
        data = bytearray(path.read_bytes())
        data[148:228] = "T1 of Müller, follow-up".encode("utf-8").ljust(80, b"\0")
        path.write_bytes(bytes(data))

    mrml = volume_as(dicom_scene("MÜLLER^HANS"), folder, "t1.nii.gz", lambda image, path: (
        write(image, path.with_suffix("")), path.write_bytes(gzip.compress(path.with_suffix("").read_bytes())),
        path.with_suffix("").unlink()))
    assert [finding.term for finding in check_scene(folder, {"MÜLLER^HANS"}) if finding.file == "Data/t1.nii.gz"]
    scrub = run("scrub", mrml, "--output", tmp_path / "out")
    assert scrub.returncode == 0, scrub.stdout + scrub.stderr
    header = gzip.decompress((tmp_path / "out" / "Data" / "t1.nii.gz").read_bytes())[:348]
    assert "Müller".encode() not in header and b"follow-up" in header
    assert compressed_files.field_text(header[148:228]) == ("T1 of *, follow-up", "utf-8")
    reopened_volume(tmp_path / "out" / "scene.mrml")
