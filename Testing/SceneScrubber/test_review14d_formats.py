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


# --- L3, W2: array names, component names, information strings of models -------------------------

def model_scene(folder: Path, suffix: str, name: str, component: str, units: str):
    """A model whose point array is named `name`, with components named `component` and 'other'
    and a UNITS_LABEL `units`, saved by vtkMRMLModelStorageNode as `suffix` (.vtk or .vtp)."""
    scene = dicom_scene()
    sphere = vtk.vtkSphereSource()
    sphere.Update()
    poly = sphere.GetOutput()
    array = vtk.vtkFloatArray()
    array.SetNumberOfComponents(2)
    array.SetNumberOfTuples(poly.GetNumberOfPoints())
    array.Fill(7.0)
    array.SetName(name)
    array.SetComponentName(0, component)
    array.SetComponentName(1, "other")
    array.GetInformation().Set(vtk.vtkDataArray.UNITS_LABEL(), units)
    poly.GetPointData().AddArray(array)
    model = scene.AddNewNodeByClass("vtkMRMLModelNode", "surface")
    model.SetAndObservePolyData(poly)
    assert model.AddDefaultStorageNode()
    (folder / "Data").mkdir(parents=True)
    model.GetStorageNode().SetFileName(str(folder / "Data" / f"surface.{suffix}"))
    return saved(scene, folder)


@pytest.mark.parametrize("suffix", ["vtk", "vtp"])
def test_L3_W2_model_array_and_component_names_and_units_are_rewritten(tmp_path, suffix):
    mrml = model_scene(tmp_path / "in", suffix, "JDoe thickness", "Doe John", "mm of John Doe")
    raw = (tmp_path / "in" / "Data" / f"surface.{suffix}").read_bytes()
    assert b"Doe%20John" in raw or b"Doe John" in raw   # the legacy format writes a space as %20
    assert "Data/surface." + suffix in {finding.file for finding in check_scene(tmp_path / "in", VALUES)}
    scrub = run("scrub", mrml, "--output", tmp_path / "out")
    assert scrub.returncode == 0, scrub.stdout + scrub.stderr
    assert raw_holds(tmp_path / "out", b"doe", b"john") == []
    assert run("check", tmp_path / "out", "--term", "Doe John").returncode == 0
    scene, ok = load_scene(tmp_path / "out" / "scene.mrml")
    assert ok
    arrays = scene.GetFirstNodeByClass("vtkMRMLModelNode").GetPolyData().GetPointData()
    kept = [arrays.GetArray(index) for index in range(arrays.GetNumberOfArrays())
            if arrays.GetArray(index).GetNumberOfComponents() == 2]
    assert len(kept) == 1 and kept[0].GetRange(0) == (7.0, 7.0)   # the data is as it was
    assert kept[0].GetComponentName(1) == "other" and "Doe" not in (kept[0].GetComponentName(0) or "")
    assert kept[0].GetNumberOfTuples() == 50


def test_W2_an_output_that_fails_its_own_check_is_removed(tmp_path):
    folder = tmp_path / "in"
    saved(dicom_scene(), folder)
    (folder / "Data" / "blob.bin").write_bytes(b"\x00\x01 MRN12345 \x00\x02")   # binary data: not rewritten
    for output in ("out", "out.mrb"):
        scrub = run("scrub", folder, "--output", tmp_path / output)
        assert scrub.returncode == 1 and "removed" in scrub.stdout, scrub.stdout + scrub.stderr
        assert not os.path.lexists(tmp_path / output)
        # a later plain check (which no longer knows the values) cannot call it clean
        assert run("check", tmp_path / output).returncode == 2
    # a .mrml written beside its files: the scene file and the file found are removed
    mrml = folder / "scene.mrml"
    mrml.write_text(re.sub(r'fileName="Data/node\d+\.nhdr"', 'fileName="Data/blob.bin"', mrml.read_text(), count=1))
    scrub = run("scrub", mrml, "--output", tmp_path / "beside" / "clean.mrml")
    assert scrub.returncode == 1, scrub.stdout + scrub.stderr
    assert not (tmp_path / "beside" / "clean.mrml").exists() and raw_holds(tmp_path / "beside", b"MRN12345") == []


# --- C1: references of VTK composite files, by content, at every level ---------------------------

MULTIBLOCK = ('<?xml version="1.0"?>\n<VTKFile type="vtkMultiBlockDataSet" version="1.0" byte_order="LittleEndian">\n'
              '<vtkMultiBlockDataSet>\n<DataSet index="0" name="Liver" file="{}"/>\n</vtkMultiBlockDataSet>\n</VTKFile>\n')


def nested_scene(root: Path, inner_reference: str) -> Path:
    """A scene whose segmentation file 'seg.seg.vtm' has one piece 'seg/inner.xml', itself a multiblock
    file (VTK picks readers by content) naming `inner_reference`."""
    mrml = saved(dicom_scene(), root / "in")
    (root / "in" / "Data" / "seg").mkdir()
    (root / "in" / "Data" / "seg" / "inner.xml").write_text(MULTIBLOCK.format(inner_reference))
    (root / "in" / "Data" / "seg.seg.vtm").write_text(MULTIBLOCK.format("seg/inner.xml"))
    text = mrml.read_text()
    mrml.write_text(re.sub(r'fileName="Data/node\d+\.nhdr"', 'fileName="Data/seg.seg.vtm"', text, count=1))
    assert "seg.seg.vtm" in mrml.read_text()
    return mrml


@pytest.mark.parametrize("source", ["mrml", "folder", "mrb"])
def test_C1_a_nested_piece_outside_the_scene_or_a_fifo_is_never_opened(tmp_path, source):
    outside = tmp_path / "elsewhere" / "secret.vtp"
    outside.parent.mkdir()
    os.mkfifo(outside)   # reading it would block: the scrub must never open it
    mrml = nested_scene(tmp_path, str(outside))
    given = {"mrml": mrml, "folder": mrml.parent}.get(source)
    if source == "mrb":   # a bundle: its own references are never followed on disk either
        import zipfile
        given = tmp_path / "scene.mrb"
        with zipfile.ZipFile(given, "w") as bundle:
            for path in sorted(mrml.parent.rglob("*")):
                if path.is_file():
                    bundle.write(path, "scene/" + path.relative_to(mrml.parent).as_posix())
    output = tmp_path / ("out.mrb" if source == "mrb" else "out")
    scrub = subprocess.run([sys.executable, "-m", "SceneScrubberLib", "scrub", str(given), "--output", str(output)],
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert scrub.returncode == 2 and "Traceback" not in scrub.stderr, scrub.stderr
    assert scrub.stderr.count("\n") == 1 and not os.path.lexists(output)
    check = subprocess.run([sys.executable, "-m", "SceneScrubberLib", "check", str(given)], capture_output=True,
                           text=True, timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert check.returncode == 2, check.stdout + check.stderr


def test_C1_vtk_reads_no_piece_it_was_not_given_and_a_cycle_is_named(tmp_path):
    from SceneScrubberLib import vtk_xml_files
    mrml = nested_scene(tmp_path, "../../../../etc/passwd")
    with pytest.raises(SceneError, match="outside"):
        vtk_xml_files.read(mrml.parent / "Data" / "seg.seg.vtm")
    (mrml.parent / "Data" / "seg" / "inner.xml").write_text(MULTIBLOCK.format("../seg.seg.vtm"))
    with pytest.raises(SceneError, match="outside its folder"):
        vtk_xml_files.read(mrml.parent / "Data" / "seg.seg.vtm", "file 2 (.seg.vtm) of the scene")
    (mrml.parent / "Data" / "seg.seg.vtm").write_text(MULTIBLOCK.format("seg.seg.vtm"))   # M1: names itself
    for command in ("check", "scrub"):
        done = run(command, mrml, *(["--output", tmp_path / "out"] if command == "scrub" else []))
        assert done.returncode == 2 and re.search(r"file \d+ \(\.seg\.vtm\) of the scene names itself", done.stderr), \
            done.stderr


# --- M2: a truncated legacy .vtk ---------------------------------------------------------------------

def test_M2_a_truncated_legacy_vtk_is_refused(tmp_path):
    mrml = model_scene(tmp_path / "in", "vtk", "thickness", "x", "mm")
    path = tmp_path / "in" / "Data" / "surface.vtk"
    full = path.read_bytes()
    for cut in (len(full) // 3, len(full) - 40):
        path.write_bytes(full[:cut])
        for command in ("scrub", "check"):
            done = run(command, mrml, *(["--output", tmp_path / "out"] if command == "scrub" else []))
            assert done.returncode == 2, (cut, command, done.stdout, done.stderr)
            assert re.search(r"file \d+ \(\.vtk\) of the scene cannot be read", done.stderr), done.stderr
            assert not (tmp_path / "out").exists()
    path.write_bytes(full)
    assert run("scrub", mrml, "--output", tmp_path / "out").returncode == 0


# --- L9: MetaImage headers ---------------------------------------------------------------------------

def write_metaimage(text_lines: bytes):
    def write(image, path):
        writer = vtk.vtkMetaImageWriter()
        writer.SetInputData(image)
        writer.SetFileName(str(path))
        writer.SetCompression(False)
        writer.Write()
        data = path.read_bytes()
        at = data.index(b"ElementDataFile")   # the text fields go before it, as MetaIO writes them
        path.write_bytes(data[:at] + text_lines + data[at:])
    return write


@pytest.mark.parametrize("suffix", ["mhd", "mha"])
def test_L9_metaimage_header_text_is_scrubbed_line_by_line(tmp_path, suffix):
    lines = b"Name = JDoe\nComment = scan of J. Doe\nPatientName = Doe^John\nAcquisitionDate = MRN12345\n"
    mrml = volume_as(dicom_scene(), tmp_path / "in", f"vol.{suffix}", write_metaimage(lines))
    header = (tmp_path / "in" / "Data" / f"vol.{suffix}").read_bytes()
    assert b"JDoe" in header and b"ObjectType = Image" in header
    flagged = {finding.file for finding in check_scene(tmp_path / "in", VALUES)}
    assert f"Data/vol.{suffix}" in flagged
    scrub = run("scrub", mrml, "--output", tmp_path / "out")
    assert scrub.returncode == 0, scrub.stdout + scrub.stderr
    assert raw_holds(tmp_path / "out", b"doe", b"john", b"12345") == []
    written = (tmp_path / "out" / "Data" / f"vol.{suffix}").read_bytes()
    assert b"ObjectType = Image" in written and b"NDims = 3" in written   # MetaIO's own fields stay
    assert run("check", tmp_path / "out", "--term", "JDoe").returncode == 0
    reopened_volume(tmp_path / "out" / "scene.mrml")


# --- L10: STL, PLY, OBJ headers; one list of text suffixes -------------------------------------------

def surface_file(kind: str, path: Path) -> None:
    sphere = vtk.vtkSphereSource()
    sphere.Update()
    if kind.startswith("stl"):
        writer = vtk.vtkSTLWriter()
        writer.SetHeader("JDoe skull, MRN12345")
        writer.SetFileTypeToBinary() if kind == "stl-binary" else writer.SetFileTypeToASCII()
    elif kind == "ply":
        writer = vtk.vtkPLYWriter()
        writer.SetFileTypeToBinary()
        writer.AddComment("scan of JDoe")
        writer.AddComment("MRN12345")
    else:
        writer = vtk.vtkOBJWriter()
    writer.SetInputData(sphere.GetOutput())
    writer.SetFileName(str(path))
    assert writer.Write()
    if kind == "obj":   # what other tools write: a comment and an object name
        path.write_bytes(b"# scan of JDoe MRN12345\no JDoe_skull\n" + path.read_bytes())


@pytest.mark.parametrize("kind", ["stl-binary", "stl-ascii", "ply", "obj"])
def test_L10_surface_headers_are_rewritten_and_the_model_still_loads(tmp_path, kind):
    suffix = kind.split("-")[0]
    folder = tmp_path / "in"
    (folder / "Data").mkdir(parents=True)
    scene = dicom_scene()
    model = scene.AddNewNodeByClass("vtkMRMLModelNode", "skull")
    storage = scene.AddNewNodeByClass("vtkMRMLModelStorageNode")
    model.SetAndObserveStorageNodeID(storage.GetID())
    path = folder / "Data" / f"skull.{suffix}"
    surface_file(kind, path)
    storage.SetFileName(str(path))
    assert storage.ReadData(model) and model.GetPolyData().GetNumberOfPoints() > 0   # Slicer reads it
    mrml = saved(scene, folder, [model])
    assert b"JDoe" in path.read_bytes()
    assert f"Data/skull.{suffix}" in {finding.file for finding in check_scene(folder, VALUES | {"JDoe"})}
    scrub = run("scrub", mrml, "--output", tmp_path / "out", "--term", "JDoe")
    assert scrub.returncode == 0, scrub.stdout + scrub.stderr
    assert raw_holds(tmp_path / "out", b"jdoe", b"12345") == []
    written = tmp_path / "out" / "Data" / f"skull.{suffix}"
    if kind == "stl-binary":
        assert written.stat().st_size == path.stat().st_size   # the 80-byte header keeps its length
    assert run("check", tmp_path / "out", "--term", "JDoe").returncode == 0
    reopened, ok = load_scene(tmp_path / "out" / "scene.mrml")
    assert ok
    points = reopened.GetFirstNodeByClass("vtkMRMLModelNode").GetPolyData().GetNumberOfPoints()
    assert points == model.GetPolyData().GetNumberOfPoints()


def test_L10_scrub_and_check_share_one_list_of_text_suffixes():
    from SceneScrubberLib import scene_check, text_encodings
    assert set(scene_check.TEXT_SUFFIXES) - {".mrml"} == set(text_encodings.TEXT_SUFFIXES)
    assert not set(text_encodings.TEXT_SUFFIXES) & set(text_encodings.BINARY_SUFFIXES)


# --- M1: every reason names the file and says what is wrong ------------------------------------------

@pytest.mark.parametrize("vox_offset, extended", [(float("nan"), 1), (float("inf"), 1), (-352.0, 1), (-1.0, 0)])
def test_M1_a_nifti_with_a_vox_offset_that_is_no_number_is_named_in_words(tmp_path, vox_offset, extended):
    def write(image, path):
        write_nifti(image, path)
        data = bytearray(path.read_bytes())
        data[108:112] = struct.pack("<f", vox_offset)
        data[348] = extended   # the extension flag: the extensions end where vox_offset says
        path.write_bytes(bytes(data))

    mrml = volume_as(dicom_scene(), tmp_path / "in", "t1.nii", write)
    for command in ("scrub", "check"):
        done = run(command, mrml, *(["--output", tmp_path / "out"] if command == "scrub" else []))
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert re.search(r"file \d+ \(\.nii\) of the scene cannot be \w+: its NIfTI header's vox_offset", done.stderr)
        assert "Error" not in done.stderr   # no exception class instead of a reason


def test_M1_an_unexpected_error_names_the_file_in_words(tmp_path, monkeypatch):
    from SceneScrubberLib import bundles, scene_check

    def deep(*_args, **_kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    folder = tmp_path / "in"
    saved(dicom_scene(), folder)
    monkeypatch.setattr(bundles, "read_nrrd_header", deep)
    with pytest.raises(SceneError, match=r"^file \d+ \(\.nhdr\) of the scene cannot be read: it nests too deeply"):
        scrub_scene(folder, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(SceneError, match=r"^file \d+ \(\.nhdr\) of the scene cannot be read: it nests too deeply"):
        check_scene(folder, VALUES)   # the check reads NRRD headers with the same function
    monkeypatch.undo()
    monkeypatch.setattr(scene_check, "_find_in_bytes", deep)
    with pytest.raises(SceneError, match=r"^file \d+ \(\.\w+\) of the scene cannot be read: it nests too deeply"):
        check_scene(folder, VALUES)
