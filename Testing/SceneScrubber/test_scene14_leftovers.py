"""Issue 14, leftovers of the lost review (task scene14): an ID padded with zeros, short spellings in
the parts of PLY/OBJ files that are not rewritten. Scenes written by slicer-core's own classes."""
import os
import subprocess
import sys
from pathlib import Path

import slicer
import vtk

from SceneScrubberLib.identity_matcher import IdentityMatcher
from SceneScrubberLib.scene_check import check_scene, identifying_terms
from support.scenes import dicom_scene


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "SceneScrubberLib", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def raw_holds(folder: Path, needle: bytes) -> list:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*")
                  if path.is_file() and needle.lower() in path.read_bytes().lower())


def patient_id_scene(folder: Path, patient_id: str, planted: str) -> Path:
    """A DICOM scene whose Patient ID is `patient_id`, with `planted` in a node name, a text node and a
    markups label; written by the nodes' own storage nodes."""
    scene = dicom_scene()
    scene.RegisterNodeClass(slicer.vtkMRMLMarkupsJsonStorageNode())
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    items = vtk.vtkIdList()   # every item, whatever its ID (IDs grow with each scene made in this process)
    sh.GetItemChildren(sh.GetSceneItemID(), items, True)
    patient = next(item for item in (items.GetId(i) for i in range(items.GetNumberOfIds()))
                   if sh.GetItemLevel(item) == "Patient")
    sh.SetItemAttribute(patient, "DICOM.PatientID", patient_id)
    sh.SetItemUID(patient, "DICOM", patient_id)
    scene.AddNewNodeByClass("vtkMRMLTextNode", f"note {planted}").SetText(f"record {planted} reviewed")
    points = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "points")
    points.AddControlPoint(vtk.vtkVector3d(1, 2, 3), planted)
    (folder / "Data").mkdir(parents=True)
    for node in (scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode"), points):
        if node.GetStorageNode() is None:
            storage = scene.AddNewNodeByClass("vtkMRMLMarkupsJsonStorageNode")
            node.SetAndObserveStorageNodeID(storage.GetID())
        storage = node.GetStorageNode()
        storage.SetFileName(str(folder / "Data" / f"{node.GetID()}.{storage.GetDefaultWriteFileExtension()}"))
        assert storage.WriteData(node)
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    return folder / "scene.mrml"


def test_1a_an_id_planted_with_extra_leading_zeros_is_found_scrubbed_and_checked(tmp_path):
    mrml = patient_id_scene(tmp_path / "in", "4815162", "MRN-04815162")
    assert "4815162" in identifying_terms(mrml)
    assert {finding.file for finding in check_scene(mrml, identifying_terms(mrml))} >= {"scene.mrml"}
    check = run("check", mrml)
    assert check.returncode == 1 and "04815162" not in check.stdout, check.stdout + check.stderr
    scrub = run("scrub", mrml, "--output", tmp_path / "out")
    assert scrub.returncode == 0, scrub.stdout + scrub.stderr
    assert raw_holds(tmp_path / "out", b"4815162") == []
    assert run("check", tmp_path / "out", "--term", "4815162").returncode == 0


def test_1a_the_rule_for_padded_numbers():
    """A number in text is also read without its leading zeros; only whole numbers, never a decimal's
    fraction, and the ID keeps its minimum number of digits."""
    matcher = IdentityMatcher(["4815162", "MRN-4815162", "0012345"])
    for text in ("MRN-04815162", "004815162", "mrn 0004815162", "id:04815162.", "MRN-4815162", "12345",
                 "0012345"):
        assert matcher.found_in(text), text
    for text in ("104815162", "1.04815162", "1.2.840.104815162", "0.5 mm", "007", "x 0481516", "2.012345"):
        assert not matcher.found_in(text), text
    assert not IdentityMatcher(["0001234"]).found_in("01234")   # 1234: under the five digits of an ID's number


def surface_scene(folder: Path, suffix: str, edit, patient_name: str = "Doe^John") -> Path:
    """A model stored as a `suffix` file written by VTK, its bytes then passed through `edit`; Slicer
    (slicer-core's model storage node) still reads it. The scene saved as folder/scene.mrml."""
    import pytest
    sphere = vtk.vtkSphereSource()
    sphere.Update()
    (folder / "Data").mkdir(parents=True)
    path = folder / "Data" / f"skull.{suffix}"
    writer = vtk.vtkPLYWriter() if suffix == "ply" else vtk.vtkOBJWriter()
    if suffix == "ply":
        writer.SetFileTypeToASCII()
        writer.SetArrayName("Normals")
    writer.SetInputData(sphere.GetOutput())
    writer.SetFileName(str(path))
    assert writer.Write()
    path.write_bytes(edit(path.read_bytes()))
    scene = dicom_scene(patient_name)
    model = scene.AddNewNodeByClass("vtkMRMLModelNode", "skull")
    storage = scene.AddNewNodeByClass("vtkMRMLModelStorageNode")
    model.SetAndObserveStorageNodeID(storage.GetID())
    storage.SetFileName(str(path))
    if not (storage.ReadData(model) and model.GetPolyData().GetNumberOfPoints() > 0):
        pytest.fail("slicer-core cannot read the edited file")
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    volume.GetStorageNode().SetFileName(str(folder / "Data" / "volume.nrrd"))
    assert volume.GetStorageNode().WriteData(volume)
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    return folder / "scene.mrml"


import pytest  # noqa: E402


@pytest.mark.parametrize("spelling", ["DoeJ", "JDoe", "J._Doe", "doe_j"])
@pytest.mark.parametrize("suffix", ["ply", "obj"])
def test_1d_short_spellings_in_names_the_format_keeps_are_found_and_the_scrub_fails(tmp_path, suffix, spelling):
    def edit(data: bytes) -> bytes:
        if suffix == "ply":   # an element of no items, named after the patient: read by VTK, kept by scrub
            return data.replace(b"end_header", b"element " + spelling.encode() + b" 0\nproperty float q\nend_header")
        return b"mtllib skull.mtl\nusemtl " + spelling.encode() + b"_skin\n" + data

    mrml = surface_scene(tmp_path / "in", suffix, edit)
    found = {finding.file for finding in check_scene(mrml, identifying_terms(mrml))}
    assert f"Data/skull.{suffix}" in found
    checked = run("check", mrml)
    assert checked.returncode == 1 and f"skull.{suffix}" in checked.stdout, checked.stdout + checked.stderr
    scrub = run("scrub", mrml, "--output", tmp_path / "out")
    assert scrub.returncode == 1 and f"skull.{suffix}" in scrub.stdout, scrub.stdout + scrub.stderr
    assert not (tmp_path / "out").exists()   # never left where a later check could call it clean


def test_1d_the_plys_own_names_are_never_a_patients(tmp_path):
    """A patient GREEN^X (a word of PLY's colour properties): the standard names are no finding."""
    def edit(data: bytes) -> bytes:
        return data.replace(b"end_header", b"element face_color 0\nproperty uchar red\nproperty uchar green\n"
                                           b"end_header")

    mrml = surface_scene(tmp_path / "in", "ply", edit, "Green^Xavier")
    assert "Data/skull.ply" not in {finding.file for finding in check_scene(mrml, identifying_terms(mrml))}
    scrub = run("scrub", mrml, "--output", tmp_path / "out")
    assert scrub.returncode == 0, scrub.stdout + scrub.stderr


# --- 1c: the Save dialog's scene that fails its check is removed, as the offline scrub's output ------

def voxels_spelling(scene, text: bytes):
    """The volume's voxels spell `text` (data the scrubber cannot rewrite), stored uncompressed."""
    from vtk.util.numpy_support import numpy_to_vtk
    import numpy
    image = vtk.vtkImageData()
    image.SetDimensions(8, 8, 3)
    values = numpy.frombuffer((text * 200)[:192], dtype=numpy.uint8).copy()
    image.GetPointData().SetScalars(numpy_to_vtk(values, deep=True))
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    volume.SetAndObserveImageData(image)
    volume.GetStorageNode().UseCompressionOff()


def test_1c_a_dialog_save_that_fails_its_check_is_removed(tmp_path):
    from SceneScrubberLib.live_scene import scrubbed_for_saving
    from SceneScrubberLib.save_decisions import after_scrubbed_save, carry_out
    from SceneScrubberLib.save_rows import outcome_message
    from support.scenes import PHI
    from test_save_dialog import screenshot

    scene = dicom_scene()
    voxels_spelling(scene, b" MRN12345 ")
    path = tmp_path / "case.mrb"
    keep = tmp_path / "mine.txt"
    keep.write_text("the user's")
    with scrubbed_for_saving(scene) as report:
        assert scene.WriteToMRB(str(path), screenshot())
    decision = after_scrubbed_save(True, True, str(tmp_path), "case.mrb", str(path), [str(path)], None)
    outcome = carry_out(decision, report.identifying_values | set(PHI), identifier_values=report.identifier_values)
    [(where, findings, error)] = outcome.scenes
    assert error is None and findings, "the voxels hold the MRN"
    assert outcome.removed_scenes == [str(path)] and not path.exists()
    assert keep.read_text() == "the user's"
    assert "was removed" in outcome_message(where, findings, scrubbed=True, removed=True)


def test_1c_a_dialog_mrml_that_fails_its_check_is_removed_with_the_files_found(tmp_path):
    from SceneScrubberLib.live_scene import scrubbed_for_saving
    from SceneScrubberLib.save_decisions import after_scrubbed_save, carry_out
    from support.scenes import PHI

    scene = dicom_scene()
    voxels_spelling(scene, b" MRN12345 ")
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "notes.txt").write_text("the user's, MRN12345")   # not the scene's: never removed
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    volume.GetStorageNode().SetFileName(str(folder / "volume.nrrd"))
    with scrubbed_for_saving(scene) as report:
        assert volume.GetStorageNode().WriteData(volume)
        scene.SetURL(str(folder / "case.mrml"))
        assert scene.Commit()
    written = [str(folder / "volume.nrrd"), str(folder / "case.mrml")]
    decision = after_scrubbed_save(True, True, str(folder), "case.mrml", str(folder / "case.mrml"), written, None)
    outcome = carry_out(decision, report.identifying_values | set(PHI), identifier_values=report.identifier_values)
    [(_where, findings, error)] = outcome.scenes
    assert error is None and findings
    assert outcome.removed_scenes == [str(folder / "case.mrml")]
    assert sorted(path.name for path in folder.rglob("*") if path.is_file()) == ["notes.txt"]


def test_1c_the_slicer_layer_passes_the_removal_to_the_message():
    source = (Path(__file__).resolve().parents[2] / "SceneScrubber" / "SceneScrubberSlicer"
              / "save_dialog_hook.py").read_text()
    assert "removed=path in outcome.removed_scenes" in source and "remove_failed" not in source


def test_a_quoted_table_cell_holding_the_delimiter_is_judged_whole(tmp_path):
    # Slicer writes a user colour table as CSV with quoted names (vtkMRMLColorTableStorageNode): a birth
    # date "Jan 1, 1970" was split at its comma into two cells no spelling matched, kept by the scrub and
    # found by the check after it (scrub exit 1, no output). A table's CSV cell the same.
    from SceneScrubberLib.bundles import scrub_scene
    from test_identity_everywhere import members, spelled_scene, zipped
    folder = spelled_scene(tmp_path / "scene", places={"color": "Jan 1, 1970"})
    csv = folder / "Data" / "Visits.csv"
    csv.write_text('"who","when"\n"Doe, John","Jan 1, 1970"\n"someone","later"\n')
    mrb = zipped(folder, tmp_path / "scene.mrb")
    colors = {name: data for name, data in members(mrb).items() if b"Jan 1, 1970" in data}
    assert any(name.endswith("Colors.csv") for name in colors), sorted(members(mrb))   # as Slicer wrote it
    terms = identifying_terms(mrb)
    result = scrub_scene(mrb, tmp_path / "clean.mrb")
    after = members(result.output)
    for name, data in after.items():
        assert b"1970" not in data and b"Doe, John" not in data, name
    [visits] = [data for name, data in after.items() if name.endswith("Visits.csv")]
    assert visits == b'"who","when"\n"*","*"\n"someone","later"\n'   # quotes, commas, rows as they were
    assert check_scene(result.output, terms) == []
    completed = run("scrub", mrb, "--output", tmp_path / "cli.mrb")
    assert completed.returncode == 0, completed.stdout + completed.stderr
