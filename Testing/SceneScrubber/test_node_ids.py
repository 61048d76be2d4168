"""Review of issue 14, finding 6 (and 3 for ids): a node id is structure. A patient named Grey or
Labels keeps the built-in colour tables' ids (vtkMRMLColorTableNodeGrey) and the references to
them; an id another program chose after the patient is renamed, with every reference to it.
Scenes are written and reopened by slicer-core's own classes."""
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import slicer
import vtk

from support.scenes import dicom_scene

CLI = Path(sys.executable).parent / "scene-scrubber"
LOGICS = []


def colour_scene(folder: Path, patient_name: str) -> Path:
    """A volume shown with the Grey table and a label map with the Labels table, as Slicer's volume
    display logic sets them, saved by slicer-core."""
    scene = dicom_scene(patient_name)
    colours = slicer.vtkMRMLColorLogic()
    colours.SetMRMLScene(scene)   # Slicer's built-in colour nodes (not saved with the scene)
    volume = only(scene, "vtkMRMLScalarVolumeNode")
    display = scene.AddNewNodeByClass("vtkMRMLScalarVolumeDisplayNode")
    display.SetAndObserveColorNodeID("vtkMRMLColorTableNodeGrey")
    volume.SetAndObserveDisplayNodeID(display.GetID())
    labels = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "labels")
    image = vtk.vtkImageData()
    image.SetDimensions(2, 2, 2)
    image.AllocateScalars(vtk.VTK_SHORT, 1)
    labels.SetAndObserveImageData(image)
    label_display = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeDisplayNode")
    label_display.SetAndObserveColorNodeID("vtkMRMLColorTableNodeLabels")
    labels.SetAndObserveDisplayNodeID(label_display.GetID())
    folder.mkdir(parents=True)
    for node, name in ((volume, "volume.nrrd"), (labels, "labels.nrrd")):
        assert node.AddDefaultStorageNode()
        node.GetStorageNode().SetFileName(str(folder / name))
        assert node.GetStorageNode().WriteData(node)
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    return folder / "scene.mrml"


def only(scene, class_name: str):
    """The one node of exactly this class (a label map volume is a scalar volume too)."""
    nodes = [scene.GetNthNodeByClass(index, class_name) for index in range(scene.GetNumberOfNodesByClass(class_name))]
    [node] = [node for node in nodes if node.GetClassName() == class_name]
    return node


def reopened(path: Path):
    scene = slicer.vtkMRMLScene()
    colours = slicer.vtkMRMLColorLogic()
    colours.SetMRMLScene(scene)
    LOGICS.append(colours)   # the logic removes its colour nodes when it goes
    scene.SetURL(str(path))
    assert scene.Import()   # Connect would clear the colour nodes first; Slicer's File > Add Data imports
    return scene


@pytest.mark.parametrize("patient_name", ["Grey^Anna", "Labels^Anna", "Green^Anna"])
def test_built_in_colour_and_view_ids_survive_a_patient_named_like_them(tmp_path, patient_name):
    mrml = colour_scene(tmp_path / "scene", patient_name)
    before = mrml.read_text()
    assert 'colorNodeID="vtkMRMLColorTableNodeGrey"' in before and patient_name.split("^")[0] in before
    run = subprocess.run([str(CLI), "scrub", str(mrml), "--output", str(tmp_path / "out" / "scene.mrml")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    text = (tmp_path / "out" / "scene.mrml").read_text()
    assert 'colorNodeID="vtkMRMLColorTableNodeGrey"' in text and 'colorNodeID="vtkMRMLColorTableNodeLabels"' in text
    assert "Anna" not in text
    scene = reopened(tmp_path / "out" / "scene.mrml")
    volume = only(scene, "vtkMRMLScalarVolumeNode")
    assert volume.GetDisplayNode().GetColorNode().GetID() == "vtkMRMLColorTableNodeGrey"
    labels = scene.GetFirstNodeByClass("vtkMRMLLabelMapVolumeNode")
    assert labels.GetDisplayNode().GetColorNode().GetID() == "vtkMRMLColorTableNodeLabels"
    assert volume.GetImageData() is not None and volume.GetImageData().GetDimensions() == (8, 8, 3)
    check = subprocess.run([str(CLI), "check", str(tmp_path / "out" / "scene.mrml"), "--term", patient_name],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_an_id_named_after_the_patient_is_renamed_with_every_reference(tmp_path):
    """A display node whose id another program chose after the patient: the id and the volume's
    reference to it get the same neutral id; check flags the id before, not after."""
    mrml = colour_scene(tmp_path / "scene", "Doe^John")
    text = mrml.read_text().replace("vtkMRMLScalarVolumeDisplayNode1", "vtkMRMLScalarVolumeDisplayNodeDoeJohn")
    assert text.count("vtkMRMLScalarVolumeDisplayNodeDoeJohn") >= 2   # its id and the volume's reference
    mrml.write_text(text)
    found = subprocess.run([str(CLI), "check", str(mrml)], capture_output=True, text=True)
    assert found.returncode == 1 and "DoeJohn" not in found.stdout
    assert only(reopened(mrml), "vtkMRMLScalarVolumeNode").GetDisplayNode() is not None
    run = subprocess.run([str(CLI), "scrub", str(mrml), "--output", str(tmp_path / "out" / "scene.mrml")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    out = (tmp_path / "out" / "scene.mrml").read_text()
    assert "DoeJohn" not in out and "Doe" not in out
    root = ET.fromstring(out)
    ids = [element.get("id") for element in root.iter() if element.get("id")]
    assert len(ids) == len(set(ids))
    display = [element for element in root.iter("VolumeDisplay")][0]
    assert display.get("id").startswith("vtkMRMLScalarVolumeDisplayNode") and display.get("id") in ids
    scene = reopened(tmp_path / "out" / "scene.mrml")
    shown = only(scene, "vtkMRMLScalarVolumeNode").GetDisplayNode()
    assert shown is not None and shown.GetID() == display.get("id")
    assert shown.GetColorNode().GetID() == "vtkMRMLColorTableNodeGrey"


def test_user_tags_view_labels_and_ids_are_checked_and_scrubbed(tmp_path):
    """Review finding 3: userTags, a non-singleton view's layoutName and layoutLabel and an id named
    after the patient were skipped as structure by check (even for --term) and left by scrub."""
    scene = dicom_scene("DOE^JOHN")
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    volume.GetUserTagTable().AddOrUpdateTag("owner", "John Doe MRN12345", 0)
    view = scene.AddNewNodeByClass("vtkMRMLViewNode")
    view.SetLayoutLabel("Doe John")
    view.SetLayoutName("DoeJohn")
    folder = tmp_path / "scene"
    folder.mkdir()
    assert volume.AddDefaultStorageNode()
    volume.GetStorageNode().SetFileName(str(folder / "volume.nrrd"))
    assert volume.GetStorageNode().WriteData(volume)
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    text = (folder / "scene.mrml").read_text()
    assert 'userTags="owner=John Doe MRN12345"' in text and 'layoutLabel="Doe John"' in text
    # only the places above: the DICOM values themselves go anyway; --term names the person
    for where in ('userTags="owner=John Doe MRN12345"', 'layoutLabel="Doe John"', 'layoutName="DoeJohn"'):
        attribute = where.partition("=")[0]
        alone = folder.parent / attribute
        alone.mkdir()
        other = text
        for place in ('userTags="owner=John Doe MRN12345"', 'layoutLabel="Doe John"', 'layoutName="DoeJohn"'):
            if place != where:
                other = other.replace(place, place.partition("=")[0] + '="x"')
        (alone / "scene.mrml").write_text(other)
        (alone / "volume.nrrd").write_bytes((folder / "volume.nrrd").read_bytes())
        check = subprocess.run([str(CLI), "check", str(alone / "scene.mrml"), "--term", "John Doe"],
                               capture_output=True, text=True)
        assert check.returncode == 1 and "scene.mrml" in check.stdout and "John" not in check.stdout, where
    run = subprocess.run([str(CLI), "scrub", str(folder / "scene.mrml"), "--output", str(tmp_path / "out" / "scene.mrml")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    out = (tmp_path / "out" / "scene.mrml").read_text()
    assert "John" not in out and "Doe" not in out and "MRN12345" not in out
    assert 'userTags="owner=' in out   # the tag's key stays, its value goes
    reopened_scene = reopened(tmp_path / "out" / "scene.mrml")
    assert reopened_scene.GetFirstNodeByClass("vtkMRMLViewNode").GetLayoutLabel() == "*"
    again = subprocess.run([str(CLI), "check", str(tmp_path / "out" / "scene.mrml"), "--term", "John Doe"],
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stdout


@pytest.mark.parametrize("new_id", ["DoeJohnDisplay", "display-Doe_John"])
def test_an_id_of_another_form_named_after_the_patient_is_renamed_with_every_reference(tmp_path, new_id):
    """Issue 14, item 4: an id that does not start with vtkMRML (an extension's own, a hand-edited
    scene's) but holds the patient's name was skipped as structure by check and kept by scrub."""
    mrml = colour_scene(tmp_path / "scene", "Doe^John")
    text = mrml.read_text().replace("vtkMRMLScalarVolumeDisplayNode1", new_id)
    assert text.count(new_id) >= 2   # its id and the volume's reference
    mrml.write_text(text)
    assert only(reopened(mrml), "vtkMRMLScalarVolumeNode").GetDisplayNode().GetID() == new_id   # Slicer keeps it
    found = subprocess.run([str(CLI), "check", str(mrml)], capture_output=True, text=True)
    assert found.returncode == 1 and "Doe" not in found.stdout
    run = subprocess.run([str(CLI), "scrub", str(mrml), "--output", str(tmp_path / "out" / "scene.mrml")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    out = (tmp_path / "out" / "scene.mrml").read_text()
    assert "Doe" not in out and "John" not in out and new_id not in out
    root = ET.fromstring(out)
    ids = [element.get("id") for element in root.iter() if element.get("id")]
    assert len(ids) == len(set(ids))
    display = [element for element in root.iter("VolumeDisplay")][0]
    assert display.get("id").startswith("vtkMRMLVolumeDisplayNode"), display.get("id")
    shown = only(reopened(tmp_path / "out" / "scene.mrml"), "vtkMRMLScalarVolumeNode").GetDisplayNode()
    assert shown is not None and shown.GetID() == display.get("id")
    assert shown.GetColorNode().GetID() == "vtkMRMLColorTableNodeGrey"
    # the scrubbed scene with only that id put back: check finds the name in the id alone
    (tmp_path / "out" / "scene.mrml").write_text(out.replace(display.get("id"), new_id))
    alone = subprocess.run([str(CLI), "check", str(tmp_path / "out" / "scene.mrml"), "--term", "Doe^John"],
                           capture_output=True, text=True)
    assert alone.returncode == 1 and "scene.mrml" in alone.stdout and "Doe" not in alone.stdout, alone.stdout
