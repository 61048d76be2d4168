"""Issue 14, items 1, 2 and 3: identity is found and taken out however it is spelled and wherever the
scene writes it, the scrubber's own neutral names are never flagged, and a bundle named after the
patient comes out neutral. Scenes are written by slicer-core's own classes and storage nodes."""
import re
import subprocess
import xml.etree.ElementTree as ET
import sys
import zipfile
from pathlib import Path

import pytest
import slicer
import vtk
from hypothesis import HealthCheck, given, settings, strategies as st

from SceneScrubberLib.bundles import scrub_scene
from SceneScrubberLib.identity_matcher import NEUTRAL_WORDS
from SceneScrubberLib.scene_check import check_scene, identifying_terms
from support.scenes import dicom_scene

CLI = Path(sys.executable).parent / "scene-scrubber"
# How people and scanners write DOE^JOHN, MRN12345 and 19700101 (what must not survive anywhere).
SPELLINGS = ["DOE^JOHN", "DOE_JOHN", "Doe_John", "John Doe", "DoeJohn", "doe-john", "Doe, John", "MRN12345",
             "19700101", "01/01/1970"]
TEXT_SUFFIXES = (".mrml", ".nhdr", ".nrrd", ".json", ".tsv", ".ctbl", ".csv", ".txt")


def new_scene(patient_name: str):
    scene = dicom_scene(patient_name)
    scene.RegisterNodeClass(slicer.vtkMRMLMarkupsJsonStorageNode())   # what Slicer's Markups module registers
    return scene


def store(scene, node, path: Path, storage_class: str = ""):
    storage = scene.AddNewNodeByClass(storage_class) if storage_class else None
    if storage is None:
        assert node.AddDefaultStorageNode()
        storage = node.GetStorageNode()
    else:
        node.SetAndObserveStorageNodeID(storage.GetID())
    path.parent.mkdir(parents=True, exist_ok=True)
    storage.SetFileName(str(path))
    assert storage.WriteData(node), path


def segmentation(scene, name: str, description: str):
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Segmentation")
    labelmap = slicer.vtkOrientedImageData()
    labelmap.SetDimensions(4, 4, 2)
    labelmap.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 1)
    labelmap.GetPointData().GetScalars().Fill(1)
    segment = slicer.vtkSegment()
    segment.SetName(name)
    segment.SetTag("Description", description)
    segment.AddRepresentation("Binary labelmap", labelmap)
    assert node.GetSegmentation().AddSegment(segment)
    return node


def spelled_scene(folder: Path, name="DOE^JOHN", places=None) -> Path:
    """A scene folder written by slicer-core for patient `name` (ID MRN12345, born 19700101) whose
    identity also stands, spelled as people write it, in `places` (default: all of them)."""
    every = {"folder": "DOE_JOHN", "file": "Doe_John", "segment": "John Doe", "segment_description": "DOE^JOHN",
             "label": "MRN12345", "point_description": "Doe, John", "text": "John Doe, born 01/01/1970",
             "cell": "doe-john", "color": "DoeJohn", "node": "doe-john"}
    places = every if places is None else places
    scene = new_scene(name)
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    store(scene, volume, folder / f"{places.get('folder', 'Images')}_chest" / f"{places.get('file', 'Volume')}_T1.nhdr")
    store(scene, segmentation(scene, f"{places.get('segment', 'Liver')} tumor",
                              f"lesion of {places.get('segment_description', 'the liver')}"),
          folder / "Data" / "Segmentation.seg.nrrd")
    points = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", f"{places.get('node', 'Target')} points")
    points.AddControlPoint(vtk.vtkVector3d(1, 2, 3), places.get("label", "F-1"))
    points.SetNthControlPointDescription(0, places.get("point_description", "entry point"))
    store(scene, points, folder / "Data" / "F.mrk.json", "vtkMRMLMarkupsJsonStorageNode")
    scene.AddNewNodeByClass("vtkMRMLTextNode", "Note").SetText(f"Patient {places.get('text', 'seen')}")
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", "Table")
    table.AddColumn().SetName("who")
    table.AddEmptyRow()
    table.SetCellText(0, 0, places.get("cell", "nobody"))
    store(scene, table, folder / "Data" / "Table.tsv")
    colors = scene.AddNewNodeByClass("vtkMRMLColorTableNode", "Colors")
    colors.SetTypeToUser()
    colors.SetNumberOfColors(2)
    colors.SetColor(0, places.get("color", "lesion"), 1, 0, 0, 1)
    colors.SetColor(1, "background", 0, 0, 0, 1)
    store(scene, colors, folder / "Data" / "Colors.ctbl")
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    return folder


def zipped(folder: Path, mrb: Path) -> Path:
    assert slicer.vtkMRMLApplicationLogic().Zip(str(mrb), str(folder))
    return mrb


def members(mrb: Path) -> dict:
    with zipfile.ZipFile(mrb) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}


def survivors(files: dict, spellings) -> list:
    """(file, spelling) for each spelling standing in a text file or in a name, found by a plain
    case-insensitive search: not by the matcher under test."""
    found = []
    for name, data in files.items():
        text = data.decode("utf-8", "replace") if name.lower().endswith(TEXT_SUFFIXES) else ""
        if name.lower().endswith((".nrrd", ".nhdr")):
            text = text.split("\n\n")[0]
        for spelling in spellings:
            pattern = re.escape(spelling).replace(r"\ ", r"(?:\ |%20)")
            if re.search(pattern, text, re.I) or re.search(pattern, name, re.I):
                found.append((name, spelling))
    return found


def reopened(mrb: Path, tmp_path: Path):
    scene = slicer.vtkMRMLScene()
    scene.RegisterNodeClass(slicer.vtkMRMLMarkupsJsonStorageNode())
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    (tmp_path / "opened").mkdir()
    assert logic.OpenSlicerDataBundle(str(mrb), str(tmp_path / "opened"))
    return scene


def test_every_spelling_in_every_place_is_found_then_taken_out(tmp_path):
    mrb = zipped(spelled_scene(tmp_path / "scene"), tmp_path / "scene.mrb")
    before = members(mrb)
    assert {name.rsplit("/", 1)[-1] for name, _ in survivors(before, SPELLINGS)} >= {
        "scene.mrml", "Doe_John_T1.nhdr", "Segmentation.seg.nrrd", "F.mrk.json", "Table.tsv", "Colors.ctbl"}
    terms = identifying_terms(mrb)
    found = {finding.file.rsplit("/", 1)[-1] for finding in check_scene(mrb, terms)}
    assert found >= {"scene.mrml", "Doe_John_T1.nhdr", "Doe_John_T1.raw.gz", "Segmentation.seg.nrrd", "F.mrk.json",
                     "Table.tsv", "Colors.ctbl"}
    result = scrub_scene(mrb, tmp_path / "clean.mrb")
    after = members(result.output)
    assert survivors(after, SPELLINGS) == []
    assert check_scene(result.output, terms | set(SPELLINGS)) == []
    assert any(name.startswith("scene/anon_chest/") for name in after)      # the folder, neutral
    scene = reopened(result.output, tmp_path)
    assert scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetImageData().GetDimensions() == (8, 8, 3)
    segment = scene.GetFirstNodeByClass("vtkMRMLSegmentationNode").GetSegmentation().GetNthSegment(0)
    description = vtk.reference("")
    assert segment.GetName() == "* tumor" and segment.GetTag("Description", description)
    assert description.get() == "lesion of *"
    points = scene.GetFirstNodeByClass("vtkMRMLMarkupsFiducialNode")
    assert points.GetNumberOfControlPoints() == 1 and points.GetNthControlPointLabel(0) == "*"
    assert points.GetNthControlPointDescription(0) == "*"
    assert points.GetName() == "MarkupsFiducial 1"
    assert scene.GetFirstNodeByClass("vtkMRMLTextNode").GetText() == "Patient *, born *"
    assert scene.GetFirstNodeByClass("vtkMRMLTableNode").GetCellText(0, 0) == "*"
    colors = scene.GetFirstNodeByName("Colors")
    assert colors.GetColorName(0) == "*" and colors.GetColorName(1) == "background"


def test_the_readme_commands_scrub_then_check_exit_0(tmp_path):
    """Item 1: `scrub scene.mrb --output clean.mrb` then `check clean.mrb` exits 0: the neutral names
    ("Patient 1", "Study 1", "Volume 1") are never taken for identifying values."""
    scene = new_scene("Test^Patient")        # a name whose words the scrubber itself writes
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    (tmp_path / "scene").mkdir()
    assert logic.SaveSceneToSlicerDataBundleDirectory(str(tmp_path / "scene"), None)
    mrb = zipped(tmp_path / "scene", tmp_path / "scene.mrb")
    scrub = subprocess.run([str(CLI), "scrub", str(mrb), "--output", str(tmp_path / "clean.mrb")],
                           capture_output=True, text=True)
    assert scrub.returncode == 0, scrub.stdout + scrub.stderr
    check = subprocess.run([str(CLI), "check", str(tmp_path / "clean.mrb")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert b"Patient 1" in members(tmp_path / "clean.mrb")["scene/scene.mrml"]
    again = subprocess.run([str(CLI), "scrub", str(tmp_path / "clean.mrb"), "--output", str(tmp_path / "again.mrb")],
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stdout
    assert identifying_terms(tmp_path / "clean.mrb") == set()


def test_a_term_of_any_three_characters_is_taken_out_and_checked(tmp_path):
    folder = spelled_scene(tmp_path / "scene", places={"label": "4815"})
    mrb = zipped(folder, tmp_path / "scene.mrb")
    assert check_scene(mrb, identifying_terms(mrb)) != []
    found = subprocess.run([str(CLI), "check", str(mrb), "--term", "4815"], capture_output=True, text=True)
    assert found.returncode == 1 and "F.mrk.json" in found.stdout and "4815" not in found.stdout
    plain = scrub_scene(mrb, tmp_path / "plain.mrb")
    assert b'"label": "4815"' in members(plain.output)["scene/Data/F.mrk.json"]   # not identifying by itself
    run = subprocess.run([str(CLI), "scrub", str(mrb), "--output", str(tmp_path / "clean.mrb"), "--term", "4815"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert b"4815" not in members(tmp_path / "clean.mrb")["scene/Data/F.mrk.json"]
    short = subprocess.run([str(CLI), "check", str(mrb), "--term", "48"], capture_output=True, text=True)
    assert short.returncode == 2


@pytest.mark.parametrize("term", ["48", "A-1", "J.D", "K 9", "___"])
def test_a_term_with_fewer_than_three_letters_or_digits_is_refused(tmp_path, term):
    """Review finding 5: the matcher compares letters and digits, so "A-1" would match nothing; it is
    refused with exit 2 and one line, never accepted and ignored."""
    mrb = zipped(spelled_scene(tmp_path / "scene"), tmp_path / "scene.mrb")
    for command in (["check", str(mrb)], ["scrub", str(mrb), "--output", str(tmp_path / "out.mrb")]):
        run = subprocess.run([str(CLI), *command, "--term", term], capture_output=True, text=True)
        assert run.returncode == 2 and "Traceback" not in run.stderr
        assert run.stderr == f"error: --term needs 3 or more letters or digits; see scene-scrubber {command[0]} --help\n"
    assert not (tmp_path / "out.mrb").exists()


def test_a_bundle_named_after_the_patient_comes_out_neutral(tmp_path):
    """Item 3: Slicer names the bundle's inner folder, scene file and screenshot after the bundle."""
    scene = new_scene("Doe^Jonathan")
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    folder = tmp_path / "Doe Jonathan"
    folder.mkdir()
    shot = vtk.vtkImageData()
    shot.SetDimensions(6, 4, 1)
    shot.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 3)
    assert logic.SaveSceneToSlicerDataBundleDirectory(str(folder), shot)
    mrb = zipped(folder, tmp_path / "Doe Jonathan.mrb")
    assert {"Doe Jonathan/Doe Jonathan.mrml", "Doe Jonathan/Doe Jonathan.png"} <= set(members(mrb))
    check = subprocess.run([str(CLI), "check", str(mrb)], capture_output=True, text=True)
    assert check.returncode == 1 and "Jonathan" not in check.stdout + check.stderr
    run = subprocess.run([str(CLI), "scrub", str(mrb), "--output", str(tmp_path / "shared.mrb")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Jonathan" not in run.stdout
    after = members(tmp_path / "shared.mrb")
    assert {"anon/anon.mrml", "anon/anon.png"} <= set(after)
    with zipfile.ZipFile(tmp_path / "shared.mrb") as archive:
        assert [name for name in archive.namelist() if name.endswith("/")] == ["anon/"]   # folder entries too
    with zipfile.ZipFile(mrb) as archive:
        assert "Doe Jonathan/" in archive.namelist()
    assert any(finding.file == "Doe Jonathan/" for finding in check_scene(mrb, identifying_terms(mrb)))
    assert survivors(after, ["Jonathan", "Doe"]) == []
    reopened_scene = reopened(tmp_path / "shared.mrb", tmp_path)
    assert reopened_scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetImageData().GetDimensions() == (8, 8, 3)


PLACES = ["folder", "file", "segment", "segment_description", "label", "point_description", "text", "cell", "color",
          "node"]
SEPARATORS = ["^", "_", " ", "", "-", ", ", ".", "%20"]
name_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8).filter(
    lambda word: word not in NEUTRAL_WORDS)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(family=name_word, given_name=name_word, places=st.sets(st.sampled_from(PLACES), min_size=1),
       spelling=st.tuples(st.sampled_from(SEPARATORS), st.booleans(), st.sampled_from(["upper", "lower", "title"])),
       data=st.data())
def test_a_name_planted_anywhere_in_any_spelling_is_taken_out_and_check_agrees(tmp_path_factory, family, given_name,
                                                                               places, spelling, data):
    """The property: a random name, planted in random places of a scene in a random spelling, is gone
    after scrubbing in every spelling, and check agrees (before: found; after: clean)."""
    separator, reversed_order, case = spelling
    words = [given_name, family] if reversed_order else [family, given_name]
    written = getattr(separator.join(words), case)()
    if separator in ("%20", "/") and data.draw(st.booleans()):
        written = written.replace("%20", " ")
    tmp_path = tmp_path_factory.mktemp("planted")
    folder = spelled_scene(tmp_path / "scene", name=f"{family.upper()}^{given_name.upper()}",
                           places={place: written for place in places})
    terms = identifying_terms(folder)
    assert check_scene(folder, terms) != []
    result = scrub_scene(folder, tmp_path / "clean")
    files = {p.relative_to(result.output).as_posix(): p.read_bytes() for p in result.output.rglob("*") if p.is_file()}
    every = [f"{a}{s}{b}" for a, b in ((family, given_name), (given_name, family)) for s in ("^", "_", " ", "", "-")]
    assert survivors(files, every + [written]) == []
    assert check_scene(result.output, terms | {written}) == []


def test_a_series_description_renames_its_node_but_leaves_slicers_own_words(tmp_path):
    """SeriesDescription "Axial" names the volume ("3: Axial") and goes; the slice nodes' orientation
    "Axial" is Slicer's vocabulary, not identity: kept, and check of the scrubbed scene exits 0."""
    scene = dicom_scene(series_description="Axial")
    slicer.vtkMRMLSliceNode.AddDefaultSliceOrientationPresets(scene)   # as vtkMRMLSliceLogic does
    slice_node = scene.AddNewNodeByClass("vtkMRMLSliceNode", "Red")
    slice_node.SetOrientation("Axial")
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    (tmp_path / "scene").mkdir()
    assert logic.SaveSceneToSlicerDataBundleDirectory(str(tmp_path / "scene"), None)
    mrb = zipped(tmp_path / "scene", tmp_path / "scene.mrb")
    assert b'orientation="Axial"' in members(mrb)["scene/scene.mrml"]
    run = subprocess.run([str(CLI), "scrub", str(mrb), "--output", str(tmp_path / "clean.mrb")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    clean = members(tmp_path / "clean.mrb")
    assert b'orientation="Axial"' in clean["scene/scene.mrml"] and b'name="Volume 1"' in clean["scene/scene.mrml"]
    assert not any("Axial" in name for name in clean)
    assert subprocess.run([str(CLI), "check", str(tmp_path / "clean.mrb")]).returncode == 0


def test_a_patient_named_like_a_view_leaves_slicers_views_alone(tmp_path):
    """Green^Grey: the Green slice view (a singleton Slicer names) keeps its name, layout name and
    singleton tag; the patient's name goes from the hierarchy all the same."""
    scene = dicom_scene(patient_name="Green^Grey")
    slicer.vtkMRMLSliceNode.AddDefaultSliceOrientationPresets(scene)
    view = scene.AddNewNodeByClass("vtkMRMLSliceNode")
    view.SetLayoutName("Green")
    view.SetName("Green")
    view.SetSingletonTag("Green")
    scene.SetURL(str(tmp_path / "scene.mrml"))
    assert scene.Commit()
    result = scrub_scene(tmp_path / "scene.mrml", tmp_path / "clean")
    root = ET.fromstring((tmp_path / "clean" / "scene.mrml").read_bytes())
    [slice_view] = root.findall("Slice")
    assert (slice_view.get("name"), slice_view.get("layoutName"), slice_view.get("singletonTag")) == ("Green",) * 3
    items = [item.get("name") for item in root.iter("SubjectHierarchyItem")]
    assert items[:2] == ["Scene", "Patient 1"] and result.report.identifying_values >= {"Green^Grey"}
    # check agrees: the view's names are Slicer's, not found; the patient's name anywhere else is
    assert check_scene(tmp_path / "clean", result.report.identifying_values) == []
    assert [finding.file for finding in check_scene(tmp_path / "scene.mrml", result.report.identifying_values)
            if finding.term == "Green^Grey"] == ["scene.mrml"]


def test_a_name_spread_over_table_cells_never_merges_them(tmp_path):
    scene = new_scene("Doe^John")
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", "Table")
    for column in ("last", "first", "note"):
        table.AddColumn().SetName(column)
    table.AddEmptyRow()
    for column, text in enumerate(("Doe", "John", "Doe, John")):
        table.SetCellText(0, column, text)
    store(scene, table, tmp_path / "scene" / "Data" / "Table.tsv")
    csv = scene.AddNewNodeByClass("vtkMRMLTableNode", "Other")
    csv.AddColumn().SetName("a")
    csv.AddColumn().SetName("b")
    csv.AddEmptyRow()
    csv.SetCellText(0, 0, "Doe")
    csv.SetCellText(0, 1, "John")
    store(scene, csv, tmp_path / "scene" / "Data" / "Other.csv")
    scene.SetURL(str(tmp_path / "scene" / "scene.mrml"))
    assert scene.Commit()
    scrub_scene(tmp_path / "scene", tmp_path / "clean")
    reread = slicer.vtkMRMLScene()
    reread.SetURL(str(tmp_path / "clean" / "scene.mrml"))
    reread.Connect()
    table, other = reread.GetFirstNodeByName("Table"), reread.GetFirstNodeByName("Other")
    assert (table.GetNumberOfColumns(), other.GetNumberOfColumns()) == (3, 2)
    assert [table.GetCellText(0, column) for column in range(3)] == ["*", "*", "*"]
    assert [other.GetCellText(0, column) for column in range(2)] == ["*", "*"]


def test_a_data_file_whose_name_holds_a_percent_escape_is_renamed_with_its_header(tmp_path):
    """'aaa%20daa_T1.raw.gz' is one file name (Slicer writes a space as %20), not a NRRD file pattern
    ('<format> <min> <max> <step>'): the header's data file line follows the renamed data file, and
    neither keeps the name (found by the property test above)."""
    folder = spelled_scene(tmp_path / "scene", name="AAA^DAA", places={"file": "aaa%20daa"})
    terms = identifying_terms(folder)
    result = scrub_scene(folder, tmp_path / "clean")
    files = {p.relative_to(result.output).as_posix(): p.read_bytes() for p in result.output.rglob("*") if p.is_file()}
    assert survivors(files, ["aaa%20daa", "aaa daa"]) == []
    header = next(data for name, data in files.items() if name.endswith(".nhdr"))
    data_file = re.search(rb"^data file: (.+)$", header, re.M).group(1).decode()
    assert any(name.endswith("/" + data_file) for name in files), (data_file, sorted(files))
    assert check_scene(result.output, terms | {"aaa%20daa"}) == []


def test_a_name_written_without_accents_or_decomposed_is_found_and_taken_out(tmp_path):
    """Review finding 4: MÜLLER^JÖRG written as 'Muller, Jorg', 'MUELLER JOERG' and NFD 'Mu\u0308ller' in a
    text node (kept in the .mrml) and a node name: check finds them, scrub takes them out, check agrees."""
    scene = new_scene("MÜLLER^JÖRG")
    folder = tmp_path / "scene"
    text = scene.AddNewNodeByClass("vtkMRMLTextNode", "Note for Mu\u0308ller")
    text.SetText("Patient Muller, Jorg; also MUELLER JOERG (Jo\u0308rg)")
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    store(scene, volume, folder / "volume.nrrd")
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    assert "MUELLER JOERG" in (folder / "scene.mrml").read_text()
    found = subprocess.run([str(CLI), "check", str(folder / "scene.mrml")], capture_output=True, text=True)
    assert found.returncode == 1 and "MUELLER" not in found.stdout, found.stdout
    run = subprocess.run([str(CLI), "scrub", str(folder / "scene.mrml"), "--output", str(tmp_path / "out" / "scene.mrml")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    written = "".join(path.read_text(errors="replace") for path in (tmp_path / "out").rglob("*")
                      if path.is_file() and path.suffix in (".mrml", ".txt"))
    for piece in ("Muller", "MUELLER", "Jorg", "JOERG", "Mu\u0308ller", "Jo\u0308rg", "Müller", "Jörg"):
        assert piece not in written, piece
    assert "\u0308" not in written
    assert "Patient *; also * (*)" in written
    again = subprocess.run([str(CLI), "check", str(tmp_path / "out" / "scene.mrml")], capture_output=True, text=True)
    assert again.returncode == 0, again.stdout
