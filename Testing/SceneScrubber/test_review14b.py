"""Review 14b findings: what a second review of the scene scrubber found left through, each with a
scene built by slicer-core's real MRML classes (the finding's number in each test's text)."""
import os
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest
import slicer
import vtk

from SceneScrubberLib.bundles import scrub_scene
from SceneScrubberLib.mrml_scrubber import SceneError
from SceneScrubberLib.policy import ScrubPolicy
from SceneScrubberLib.scene_check import check_scene
from support.scenes import dicom_scene

CLI = Path(sys.executable).parent / "scene-scrubber"


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True)


def saved(scene, folder: Path, *nodes) -> Path:
    """The scene saved as Slicer saves a scene folder: each storable node written by its storage node
    into Data/, then the .mrml."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Data").mkdir(exist_ok=True)
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    for node, file_name in ((volume, "vol.nrrd"),) + tuple(nodes):
        storage = node.GetStorageNode()
        if storage is None:
            assert node.AddDefaultStorageNode()
            storage = node.GetStorageNode()
        storage.SetFileName(str(folder / "Data" / file_name))
        assert storage.WriteData(node), file_name
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    return folder


def test_4_an_annotations_snapshot_screenshot_is_blanked(tmp_path):
    scene = dicom_scene()
    scene.RegisterNodeClass(slicer.vtkMRMLAnnotationSnapshotNode())
    scene.RegisterNodeClass(slicer.vtkMRMLAnnotationSnapshotStorageNode())
    snapshot = scene.AddNewNodeByClass("vtkMRMLAnnotationSnapshotNode", "Screenshot 1")
    image = vtk.vtkImageData()
    image.SetDimensions(4, 4, 1)
    image.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 3)
    image.GetPointData().GetScalars().Fill(200)
    snapshot.SetScreenShot(image)
    storage = scene.AddNewNodeByClass("vtkMRMLAnnotationSnapshotStorageNode")
    snapshot.SetAndObserveStorageNodeID(storage.GetID())
    folder = saved(scene, tmp_path / "scene", (snapshot, "Screenshot_1.png"))
    result = scrub_scene(folder, tmp_path / "clean")
    assert "Data/Screenshot_1.png" in result.blanked_screenshots
    before = (folder / "Data/Screenshot_1.png").read_bytes()
    after = (tmp_path / "clean/Data/Screenshot_1.png").read_bytes()
    assert after != before
    reader = vtk.vtkPNGReader()
    reader.SetFileName(str(tmp_path / "clean/Data/Screenshot_1.png"))
    reader.Update()
    assert reader.GetOutput().GetDimensions()[:2] == (4, 4)
    assert reader.GetOutput().GetPointData().GetScalars().GetRange() == (0.0, 0.0)


def _bundle(path: Path, members: dict) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_7_nfc_and_nfd_spellings_of_one_member_are_one_member(tmp_path):
    mrml = b'<?xml version="1.0" encoding="UTF-8"?>\n<MRML version="Slicer4.4.0"></MRML>\n'
    nfc, nfd = unicodedata.normalize("NFC", "B\u00fccher"), unicodedata.normalize("NFD", "B\u00fccher")
    assert nfc != nfd
    source = _bundle(tmp_path / "in.mrb", {f"{nfc}/{nfc}.mrml": mrml, f"{nfc}/{nfc}.png": b"\x89PNG",
                                           f"{nfd}/{nfd}.png": b"\x89PNG"})
    with pytest.raises(SceneError, match="appears twice"):
        scrub_scene(source, tmp_path / "out.mrb")
    assert run("scrub", source, "--output", tmp_path / "out.mrb").returncode == 2
    assert not (tmp_path / "out.mrb").exists()


def test_8_a_member_that_is_a_file_and_a_folder_is_refused(tmp_path):
    scene = dicom_scene()
    folder = saved(scene, tmp_path / "X")
    source = _bundle(tmp_path / "conflict.mrb", {"X/scene.mrml": (folder / "scene.mrml").read_bytes(),
                                                 "X/Data": b"x", "X/Data/vol.nrrd": (folder / "Data/vol.nrrd").read_bytes()})
    with pytest.raises(SceneError, match="both a file and a folder"):
        scrub_scene(source, tmp_path / "out.mrb")
    for command in (["scrub", source, "--output", tmp_path / "out.mrb"], ["check", source]):
        done = run(*command)
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and "both a file and a folder" in done.stderr
    assert not (tmp_path / "out.mrb").exists()


def test_9_a_fifo_or_link_input_and_an_unwritable_output_say_what_is_wrong(tmp_path):
    folder = saved(dicom_scene(), tmp_path / "Doe John")
    os.mkfifo(tmp_path / "fifo.mrml")
    os.symlink(folder / "scene.mrml", tmp_path / "link.mrml")
    for source, reason in ((tmp_path / "fifo.mrml", "not a regular file"), (tmp_path / "link.mrml", "is a link")):
        done = run("scrub", source, "--output", tmp_path / "out.mrb")
        assert done.returncode == 2 and reason in done.stderr and "no .mrml" not in done.stderr, done.stderr
    good = tmp_path / "good.mrb"
    assert slicer.vtkMRMLApplicationLogic().Zip(str(good), str(folder))
    for output, reason in ((tmp_path / "missing" / "out.mrb", "the output's folder does not exist"),
                           (Path("/proc/out.mrb"), "the output cannot be written")):
        done = run("scrub", good, "--output", output, "--term", "Doe John")
        assert done.returncode == 2 and done.stderr.startswith(f"error: {reason}"), done.stderr
        assert done.stderr.count("\n") == 1 and "Doe John" not in done.stderr


def test_5_a_five_digit_patient_id_is_matched_at_any_length(tmp_path):
    scene = dicom_scene()
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    ids = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), ids, False)
    patient = ids.GetId(0)
    sh.SetItemAttribute(patient, "DICOM.PatientID", "48151")
    sh.SetItemAttribute(patient, "DICOM.AccessionNumber", "7342")
    text = scene.AddNewNodeByClass("vtkMRMLTextNode", "t")
    text.SetText("case 48151 reviewed, accession 7342")
    folder = saved(scene, tmp_path / "scene")
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    volume.GetStorageNode().SetFileName(str(folder / "Data" / "48151_T1.nrrd"))
    assert volume.GetStorageNode().WriteData(volume)
    (folder / "Data" / "vol.nrrd").unlink()
    assert scene.Commit()
    found = run("check", folder)
    assert found.returncode == 1 and "48151" not in found.stdout, found.stdout + found.stderr
    done = run("scrub", folder, "--output", tmp_path / "clean")
    assert done.returncode == 0, done.stdout + done.stderr
    for path in (tmp_path / "clean").rglob("*"):
        assert "48151" not in path.name
        if path.is_file():
            assert b"48151" not in path.read_bytes() and b"7342" not in path.read_bytes(), path.name
    assert run("check", tmp_path / "clean").returncode == 0


def test_6_check_finds_dicom_keys_in_a_header_put_back_after_scrubbing(tmp_path):
    folder = saved(dicom_scene(), tmp_path / "scene")
    original = (folder / "Data/vol.nrrd").read_bytes()
    assert b"DICOM.instanceUIDs:=1.2.840.99.3 1.2.840.99.4" in original
    assert run("scrub", folder, "--output", tmp_path / "clean").returncode == 0
    assert b"1.2.840.99.3" not in (tmp_path / "clean/Data/vol.nrrd").read_bytes()
    (tmp_path / "clean/Data/vol.nrrd").write_bytes(original)   # the original header put back
    (tmp_path / "clean/Data/note.txt").write_text("see 1.2.840.99.3 1.2.840.99.4\n")
    findings = check_scene(tmp_path / "clean", [], policy=ScrubPolicy())
    assert {(finding.file, finding.term) for finding in findings} >= {
        ("Data/vol.nrrd", "1.2.840.99.3 1.2.840.99.4"), ("Data/note.txt", "1.2.840.99.3 1.2.840.99.4")}
    done = run("check", tmp_path / "clean")
    assert done.returncode == 1 and "Data/vol.nrrd" in done.stdout and "1.2.840.99.3" not in done.stdout, done.stdout


def test_3_text_files_not_in_utf8_are_scrubbed_in_their_own_encoding(tmp_path):
    scene = dicom_scene("M\u00dcLLER^J\u00d6RG")
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", "T")
    table.AddColumn().SetName("who")
    table.AddEmptyRow()
    table.SetCellText(0, 0, "M\u00fcller J\u00f6rg")
    note = scene.AddNewNodeByClass("vtkMRMLTextNode", "N")
    note.SetText("Patient M\u00fcller, J\u00f6rg")
    for node, kind in ((table, "vtkMRMLTableStorageNode"), (note, "vtkMRMLTextStorageNode")):
        node.SetAndObserveStorageNodeID(scene.AddNewNodeByClass(kind).GetID())
    folder = saved(scene, tmp_path / "scene", (table, "T.csv"), (note, "N.txt"))
    (folder / "Data/T.csv").write_bytes("who\nM\u00fcller J\u00f6rg\n".encode("cp1252"))
    (folder / "Data/N.txt").write_bytes("Patient M\u00fcller, J\u00f6rg".encode("utf-16"))
    assert run("check", folder).returncode == 1
    done = run("scrub", folder, "--output", tmp_path / "clean")
    assert done.returncode == 0, done.stdout + done.stderr
    table_bytes, note_bytes = (tmp_path / "clean/Data/T.csv").read_bytes(), (tmp_path / "clean/Data/N.txt").read_bytes()
    assert note_bytes.startswith(b"\xff\xfe") and note_bytes.decode("utf-16").startswith("Patient ")
    for text in (table_bytes.decode("cp1252"), note_bytes.decode("utf-16")):
        assert "ller" not in text and "rg" not in text.replace("\n", " ").split(" ")[-1], text
