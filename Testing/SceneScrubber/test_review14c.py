"""Review 14c findings: what a third review of the scene scrubber found, each with a scene built by
slicer-core's real MRML classes (the finding's number in each test's name)."""
import os
import subprocess
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


def _tree(folder: Path) -> dict:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_7_nothing_beside_the_output_is_removed_or_overwritten_not_even_the_input(tmp_path):
    scene_folder = saved(dicom_scene(), tmp_path / "scene")
    # a folder of the user's that has the name the old writer used for its temporary folder
    mine = tmp_path / ".victim.partial"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"my work")
    scrub_scene(scene_folder, tmp_path / "victim")
    assert (mine / "thesis.docx").read_bytes() == b"my work"
    assert (tmp_path / "victim" / "scene.mrml").is_file()
    # the input itself named so: it must be read, never removed
    own = tmp_path / ".c2.partial"
    os.rename(scene_folder, own)
    before = _tree(own)
    scrub_scene(own, tmp_path / "c2")
    assert _tree(own) == before
    assert (tmp_path / "c2" / "scene.mrml").is_file()
    # a bundle output: a file of that name is not overwritten
    (tmp_path / ".clean.mrb.partial").write_bytes(b"keep me")
    scrub_scene(own, tmp_path / "clean.mrb")
    assert (tmp_path / ".clean.mrb.partial").read_bytes() == b"keep me"
    assert zipfile.is_zipfile(tmp_path / "clean.mrb")
    # a .mrml output beside its files
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".new.mrml.partial").mkdir()
    (tmp_path / "out" / ".new.mrml.partial" / "notes").write_bytes(b"mine")
    scrub_scene(own / "scene.mrml", tmp_path / "out" / "new.mrml")
    assert (tmp_path / "out" / ".new.mrml.partial" / "notes").read_bytes() == b"mine"
    assert not [path for path in tmp_path.rglob(".scene-scrubber-*")]   # its own temporary names are gone


def _png_range(data: bytes, tmp_path: Path):
    path = tmp_path / "shot.png"
    path.write_bytes(data)
    reader = vtk.vtkPNGReader()
    reader.SetFileName(str(path))
    reader.Update()
    return reader.GetOutput().GetPointData().GetScalars().GetRange()


def _scene_with_views(*view_names):
    scene = dicom_scene("DOE^JOHN")
    for class_name in ("vtkMRMLSceneViewNode", "vtkMRMLSceneViewStorageNode"):
        scene.RegisterNodeClass(getattr(slicer, class_name)())
    for name in view_names:
        view = scene.AddNewNodeByClass("vtkMRMLSceneViewNode", name)
        image = vtk.vtkImageData()
        image.SetDimensions(16, 16, 1)
        image.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 3)
        image.GetPointData().GetScalars().Fill(200)
        view.SetScreenShot(image)
        view.StoreScene()
    return scene


def _bundle_of(scene, folder: Path) -> Path:
    """The scene saved as Slicer saves an .mrb (vtkMRMLApplicationLogic: bundle folder, then zip)."""
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    (folder / "scene").mkdir(parents=True)
    assert logic.SaveSceneToSlicerDataBundleDirectory(str(folder / "scene"), None)
    assert logic.Zip(str(folder / "scene.mrb"), str(folder / "scene"))
    return folder / "scene.mrb"


def _pngs(bundle: Path) -> dict:
    with zipfile.ZipFile(bundle) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name.endswith(".png")}


def test_1_a_scene_view_named_after_the_patient_has_its_screenshot_blanked(tmp_path):
    bundle = _bundle_of(_scene_with_views("Follow-up", "Doe John view"), tmp_path)
    originals = _pngs(bundle)
    assert any("Doe John view" in name for name in originals)   # Slicer names the image after the view
    result = scrub_scene(bundle, tmp_path / "clean.mrb")
    cleaned = _pngs(tmp_path / "clean.mrb")
    views = [name for name in cleaned if "/Data/" in name]
    assert len(views) == 2 and not any("Doe" in name for name in cleaned)
    for name in views:
        assert cleaned[name] not in originals.values()
        assert _png_range(cleaned[name], tmp_path) == (0.0, 0.0)
    assert len([name for name in result.blanked_screenshots if "/Data/" in name]) == 2
    # the Save dialog's path for an .mrb (after_save) scrubs with the same scrubber
    from SceneScrubberLib.after_save import finish_saved_scene
    again = _bundle_of(_scene_with_views("Doe John view"), tmp_path / "saved")
    findings, blanked_files = finish_saved_scene(again, {"DOE^JOHN", "MRN12345"})
    assert [name for name in blanked_files if "/Data/" in name]
    for name, data in _pngs(again).items():
        assert _png_range(data, tmp_path) == (0.0, 0.0), name


def _collide_bundle(folder: Path, patient_name: str) -> Path:
    """A bundle with a volume, markups, a segmentation and the views, for a patient whose name part
    is a word Slicer writes (review 14c, repro 04)."""
    scene = dicom_scene(patient_name)
    scene.RegisterNodeClass(slicer.vtkMRMLMarkupsJsonStorageNode())
    points = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "F")
    points.AddControlPoint(vtk.vtkVector3d(1, 2, 3), "F-1")
    points.CreateDefaultDisplayNodes()
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Segmentation")
    segmentation.CreateDefaultDisplayNodes()
    labelmap = slicer.vtkOrientedImageData()
    labelmap.SetDimensions(4, 4, 2)
    labelmap.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 1)
    labelmap.GetPointData().GetScalars().Fill(1)
    segment = slicer.vtkSegment()
    segment.SetName("Liver")
    segment.AddRepresentation("Binary labelmap", labelmap)
    segmentation.GetSegmentation().AddSegment(segment)
    for tag in ("Red", "Green", "Yellow"):
        node = slicer.vtkMRMLSliceNode()
        node.SetLayoutName(tag)
        node.SetName(tag)
        scene.AddNode(node)
    view = slicer.vtkMRMLViewNode()
    view.SetLayoutName("1")
    scene.AddNode(view)
    for node in (slicer.vtkMRMLSelectionNode(), slicer.vtkMRMLInteractionNode(), slicer.vtkMRMLCameraNode()):
        scene.AddNode(node)
    scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").CreateDefaultDisplayNodes()
    return _bundle_of(scene, folder)


@pytest.mark.parametrize("patient_name", ["LITTLE^ANNA", "SHORT^ANNA", "TRUE^ANNA", "FALSE^ANNA", "WHITE^ANNA",
                                          "NONE^ANNA", "POINT^ANNA", "LINEAR^ANNA", "VIEW^ANNA"])
def test_4_a_name_part_that_is_a_word_slicer_writes_leaves_the_scene_readable(tmp_path, patient_name):
    bundle = _collide_bundle(tmp_path / "in", patient_name)
    result = scrub_scene(bundle, tmp_path / "clean.mrb")
    assert result.report.identifying_values
    scene = slicer.vtkMRMLScene()
    scene.RegisterNodeClass(slicer.vtkMRMLMarkupsJsonStorageNode())
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    (tmp_path / "opened").mkdir()
    assert logic.OpenSlicerDataBundle(str(tmp_path / "clean.mrb"), str(tmp_path / "opened"))
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    assert volume is not None and volume.GetImageData() is not None
    assert volume.GetImageData().GetDimensions() == (8, 8, 3)
    points = scene.GetFirstNodeByClass("vtkMRMLMarkupsFiducialNode")
    assert points.GetNumberOfControlPoints() == 1 and points.GetNthControlPointLabel(0) == "F-1"
    assert scene.GetFirstNodeByClass("vtkMRMLSegmentationNode").GetSegmentation().GetNumberOfSegments() == 1
    with zipfile.ZipFile(tmp_path / "clean.mrb") as archive:
        text = b"".join(archive.read(name) for name in archive.namelist() if name.endswith((".mrml", ".json")))
    assert b"ANNA" not in text.upper()   # the name is still taken out where it is text
    assert check_scene(tmp_path / "clean.mrb", result.report.identifying_values) == []
    # every attribute that is no text (booleans, enumerations: 'rulerColor="white"') is as Slicer wrote it
    before, after = _structure_attributes(bundle), _structure_attributes(tmp_path / "clean.mrb")
    assert {key: value for key, value in before.items() if after.get(key) != value} == {}


def _structure_attributes(bundle: Path) -> dict:
    import xml.etree.ElementTree as ET
    with zipfile.ZipFile(bundle) as archive:
        root = ET.fromstring(archive.read(next(name for name in archive.namelist() if name.endswith(".mrml"))))
    text = {"name", "attributes", "description", "fileName", "userTags"}
    return {(element.tag, element.get("id"), key): value for element in root.iter() if element.tag != "SubjectHierarchyItem"
            for key, value in element.attrib.items() if key not in text}


def test_3_a_two_character_chinese_name_is_taken_out_of_names_files_and_text(tmp_path):
    scene = dicom_scene("WANG^WEI=王^伟")
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    volume.SetName("王伟 CT")
    scene.AddNewNodeByClass("vtkMRMLTextNode", "Note").SetText("患者王伟, 王 伟, 王^伟")
    folder = saved(scene, tmp_path / "scene")
    os.rename(folder / "Data" / "vol.nrrd", folder / "Data" / "王伟_CT.nrrd")
    mrml = (folder / "scene.mrml").read_text(encoding="utf-8").replace("vol.nrrd", "%E7%8E%8B%E4%BC%9F_CT.nrrd")
    (folder / "scene.mrml").write_text(mrml, encoding="utf-8")
    result = scrub_scene(folder, tmp_path / "clean")
    written = (tmp_path / "clean" / "scene.mrml").read_text(encoding="utf-8")
    names = [str(path.relative_to(tmp_path / "clean")) for path in (tmp_path / "clean").rglob("*")]
    assert "王伟" not in written and "王 伟" not in written and "伟" not in written
    assert not [name for name in names if "王" in name or "伟" in name]
    assert check_scene(tmp_path / "clean", result.report.identifying_values) == []
    assert check_scene(folder, result.report.identifying_values)   # and the input is flagged
    reopened, ok = load_scene(tmp_path / "clean" / "scene.mrml")
    assert ok and reopened.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetImageData() is not None


def test_5_compressed_content_is_read_scrubbed_and_checked(tmp_path):
    import gzip
    scene = dicom_scene("DOE^JOHN")
    folder = tmp_path / "scene"
    (folder / "Data").mkdir(parents=True)
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    writer = vtk.vtkNIFTIImageWriter()   # as NIfTI tools write it: the header's descrip holds the name
    writer.SetInputData(volume.GetImageData())
    writer.SetDescription("DOE^JOHN MRN12345")
    writer.SetFileName(str(folder / "Data" / "vol.nii.gz"))
    writer.Write()
    scene.RemoveNode(scene.GetNodeByID(volume.GetStorageNodeID()))
    storage = scene.AddNewNodeByClass("vtkMRMLVolumeArchetypeStorageNode")
    storage.SetFileName(str(folder / "Data" / "vol.nii.gz"))
    volume.SetAndObserveStorageNodeID(storage.GetID())
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    (folder / "notes.txt.gz").write_bytes(gzip.compress("Notes on John Doe, MRN12345\n".encode()))
    values = {"DOE^JOHN", "MRN12345"}
    flagged = {finding.file for finding in check_scene(folder, values)}
    assert {"Data/vol.nii.gz", "notes.txt.gz"} <= flagged   # the input's compressed content is read
    result = scrub_scene(folder, tmp_path / "clean")
    assert {"Data/vol.nii.gz", "notes.txt.gz"} <= set(result.scrubbed_files)
    notes = gzip.decompress((tmp_path / "clean" / "notes.txt.gz").read_bytes()).decode()
    assert notes == "Notes on *, *\n"
    header = gzip.decompress((tmp_path / "clean" / "Data" / "vol.nii.gz").read_bytes())[:348]
    assert b"DOE" not in header and b"MRN" not in header
    assert check_scene(tmp_path / "clean", result.report.identifying_values | values) == []
    reopened, ok = load_scene(tmp_path / "clean" / "scene.mrml")
    assert ok
    image = reopened.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetImageData()
    assert image is not None and image.GetDimensions() == (8, 8, 3)
    # a damaged compressed member is refused, never certified
    (folder / "notes.txt.gz").write_bytes(gzip.compress(b"John Doe")[:-6] + b"\0" * 6)
    with pytest.raises(SceneError):
        scrub_scene(folder, tmp_path / "again")
    assert not (tmp_path / "again").exists()
    with pytest.raises(SceneError):
        check_scene(folder, values)


@pytest.mark.parametrize("as_folder", [False, True])
def test_2_a_save_dialog_mrml_or_folder_gets_the_same_scrub_as_an_mrb(tmp_path, as_folder):
    from SceneScrubberLib.after_save import finish_saved_scene
    from SceneScrubberLib.live_scene import identifying_values, scrubbed_for_saving
    out = tmp_path / "saved"
    (out / "Data").mkdir(parents=True)
    scene = _scene_with_views("Follow-up")
    values = identifying_values(scene)
    with scrubbed_for_saving(scene):   # as the Save dialog writes a scrubbed scene
        for index in range(scene.GetNumberOfNodes()):
            node = scene.GetNthNode(index)
            if not node.IsA("vtkMRMLStorableNode"):
                continue
            if node.GetStorageNode() is None:
                node.AddDefaultStorageNode()
            storage = node.GetStorageNode()
            if storage is not None:
                file_name = node.GetName().replace(":", "").replace(" ", "_") + "." + storage.GetDefaultWriteFileExtension()
                storage.SetFileName(str(out / "Data" / file_name))
                assert storage.WriteData(node)
        scene.SetURL(str(out / "scene.mrml"))
        assert scene.Commit()
    assert "DICOM." in (out / "scene.mrml").read_text()   # Slicer's scene view copies kept the attributes
    originals = {path.name: path.read_bytes() for path in out.rglob("*.png")}
    findings, blanked_files = finish_saved_scene(out if as_folder else out / "scene.mrml", values)
    assert findings == []
    text = (out / "scene.mrml").read_text()
    assert "DICOM." not in text and "DOE" not in text.upper().replace("DOEJ", "")
    assert "Data/Follow-up.png" in blanked_files
    for path in out.rglob("*.png"):
        assert path.read_bytes() != originals.get(path.name) and _png_range(path.read_bytes(), tmp_path) == (0.0, 0.0)
    assert not [path for path in tmp_path.rglob(".scene-scrubber-*")]
    reopened = slicer.vtkMRMLScene()
    for class_name in ("vtkMRMLSceneViewNode", "vtkMRMLSceneViewStorageNode"):
        reopened.RegisterNodeClass(getattr(slicer, class_name)())
    reopened.SetURL(str(out / "scene.mrml"))
    assert reopened.Connect()
    assert reopened.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetImageData() is not None


def test_6_legacy_vtk_model_array_names_are_found_and_rewritten(tmp_path):
    folder = tmp_path / "scene"
    (folder / "Data").mkdir(parents=True)
    scene = dicom_scene("DOE^JOHN")
    labels = ["John Doe thickness", "doe-john curvature", "Doe, John", "MRN12345 map"]
    for index, label in enumerate(labels):
        model = scene.AddNewNodeByClass("vtkMRMLModelNode", f"Model {index}")
        sphere = vtk.vtkSphereSource()
        sphere.Update()
        data = sphere.GetOutput()
        array = vtk.vtkFloatArray()
        array.SetName(label)   # the legacy writer writes 'John%20Doe%20thickness'
        array.SetNumberOfTuples(data.GetNumberOfPoints())
        array.Fill(index + 1)
        data.GetPointData().AddArray(array)
        model.SetAndObservePolyData(data)
        storage = scene.AddNewNodeByClass("vtkMRMLModelStorageNode")
        model.SetAndObserveStorageNodeID(storage.GetID())
        storage.SetFileName(str(folder / "Data" / f"m{index}.vtk"))
        assert storage.WriteData(model)
    saved(scene, folder)   # the volume too, then the scene
    assert b"John%20Doe%20thickness" in (folder / "Data" / "m0.vtk").read_bytes()
    values = {"DOE^JOHN", "MRN12345"}
    assert {f"Data/m{index}.vtk" for index in range(4)} <= {finding.file for finding in check_scene(folder, values)}
    result = scrub_scene(folder, tmp_path / "clean")
    assert check_scene(tmp_path / "clean", result.report.identifying_values | values) == []
    reopened, ok = load_scene(tmp_path / "clean" / "scene.mrml")
    assert ok
    models = [reopened.GetNthNodeByClass(index, "vtkMRMLModelNode") for index in range(4)]
    for index, model in enumerate(models):
        arrays = model.GetPolyData().GetPointData()
        names = [arrays.GetArrayName(position) for position in range(arrays.GetNumberOfArrays())]
        assert not [name for name in names if "doe" in name.lower() or "john" in name.lower() or "MRN" in name], names
        kept = [arrays.GetArray(position) for position in range(arrays.GetNumberOfArrays())
                if arrays.GetArrayName(position) not in ("Normals", "TextureCoordinates")]
        assert kept and kept[0].GetRange() == (index + 1.0, index + 1.0)   # the data is as it was
        assert model.GetPolyData().GetNumberOfPoints() == 50
    header = (tmp_path / "clean" / "Data" / "m0.vtk").read_bytes()[:80]
    assert b"SPACE=LPS" in header and b"Version 4.2" in header


def test_8_a_nrrd_header_over_a_mebibyte_is_read_whole_or_refused(tmp_path, monkeypatch):
    from SceneScrubberLib import bundles
    scene = dicom_scene("DOE^JOHN")
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    volume.SetAttribute("Analysis", "x" * (1100 * 1024))   # vtkMRMLNRRDStorageNode copies it into the header
    volume.SetAttribute("Reviewer", "seen with John Doe")
    folder = saved(scene, tmp_path / "scene")
    assert b"John Doe" in (folder / "Data" / "vol.nrrd").read_bytes()[1 << 20:]
    values = {"DOE^JOHN", "MRN12345"}
    assert "Data/vol.nrrd" in {finding.file for finding in check_scene(folder, values)}
    result = scrub_scene(folder, tmp_path / "clean")
    data = (tmp_path / "clean" / "Data" / "vol.nrrd").read_bytes()
    assert b"John Doe" not in data and b"Reviewer:=seen with *" in data
    assert check_scene(tmp_path / "clean", result.report.identifying_values | values) == []
    reopened, ok = load_scene(tmp_path / "clean" / "scene.mrml")
    assert ok and reopened.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetImageData().GetDimensions() == (8, 8, 3)
    # beyond the documented bound: refused by scrub and check, never called clean
    monkeypatch.setattr(bundles, "MAX_NRRD_HEADER_BYTES", 1 << 20)
    with pytest.raises(SceneError):
        scrub_scene(folder, tmp_path / "again")
    with pytest.raises(SceneError):
        check_scene(tmp_path / "clean", values)


def _segmentation(scene, name: str = "Segmentation"):
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    labelmap = slicer.vtkOrientedImageData()
    labelmap.SetDimensions(4, 4, 2)
    labelmap.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 1)
    labelmap.GetPointData().GetScalars().Fill(1)
    segment = slicer.vtkSegment()
    segment.SetName("Liver")
    segment.AddRepresentation("Binary labelmap", labelmap)
    segmentation.GetSegmentation().AddSegment(segment)
    return segmentation


def test_9_an_attribute_key_with_the_name_goes_from_headers_and_slicer_keys_are_structure(tmp_path):
    scene = dicom_scene("DOE^JOHN")
    scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").SetAttribute("note DOE_JOHN", "reviewed")
    folder = saved(scene, tmp_path / "scene")
    assert b"note DOE_JOHN:=reviewed" in (folder / "Data" / "vol.nrrd").read_bytes()
    result = scrub_scene(folder, tmp_path / "clean")
    header = (tmp_path / "clean" / "Data" / "vol.nrrd").read_bytes()
    assert b"DOE_JOHN" not in header and b"note *:=reviewed" in header
    assert "DOE_JOHN" not in (tmp_path / "clean" / "scene.mrml").read_text()
    assert check_scene(tmp_path / "clean", result.report.identifying_values) == []
    # LABEL^ANNA: 'Segment0_LabelValue' is Slicer's key, neither rewritten nor flagged
    scene = dicom_scene("LABEL^ANNA")
    segmentation = _segmentation(scene)
    labelled = saved(scene, tmp_path / "labelled", (segmentation, "seg.seg.nrrd"))
    result = scrub_scene(labelled, tmp_path / "labelled.clean")
    header = (tmp_path / "labelled.clean" / "Data" / "seg.seg.nrrd").read_bytes()
    assert b"Segment0_LabelValue:=1" in header
    assert check_scene(tmp_path / "labelled.clean", result.report.identifying_values) == []
    reopened, ok = load_scene(tmp_path / "labelled.clean" / "scene.mrml")
    assert ok and reopened.GetFirstNodeByClass("vtkMRMLSegmentationNode").GetSegmentation().GetNumberOfSegments() == 1


def test_12_the_output_name_is_checked_before_writing_and_inner_names_are_neutral(tmp_path):
    folder = saved(dicom_scene("DOE^JOHN"), tmp_path / "scene")
    scrub_scene(folder, tmp_path / "scene.mrb")
    # an .mrb input and an output without .mrb; a folder input and an output ending in .mrml
    for source, output in ((tmp_path / "scene.mrb", tmp_path / "up2"), (folder, tmp_path / "up3.mrml")):
        completed = run("scrub", source, "--output", output)
        assert completed.returncode == 2, completed.stderr
        assert not os.path.lexists(output)
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".scene-scrubber-")]
    # an output named after the patient: its inner folder is not, and check passes on what it wrote
    output = tmp_path / "DOE_JOHN clean.mrb"
    completed = run("scrub", folder, "--output", output)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    with zipfile.ZipFile(output) as archive:
        names = archive.namelist()
    assert names and all(name.startswith("anon clean/") for name in names), names
    assert "check: no identifying value found" in completed.stdout


def test_10_a_missing_file_is_named_and_a_present_list_member_is_not_reported(tmp_path):
    scene = dicom_scene("DOE^JOHN")
    scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").SetName("DOE JOHN")
    labels = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "MRN12345")
    image = vtk.vtkImageData()
    image.SetDimensions(4, 4, 2)
    image.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 1)
    image.GetPointData().GetScalars().Fill(1)
    labels.SetAndObserveImageData(image)
    folder = saved(scene, tmp_path / "scene", (labels, "MRN12345.nrrd"))
    # the archetype storage node lists its file relative to its own folder ('MRN12345.nrrd')
    assert 'fileListMember0="MRN12345.nrrd"' in (folder / "scene.mrml").read_text()
    completed = run("scrub", folder, "--output", tmp_path / "clean")
    assert completed.returncode == 0 and "warning" not in completed.stdout + completed.stderr, completed.stdout
    text = (tmp_path / "clean" / "scene.mrml").read_text()
    assert "MRN12345" not in text and 'fileListMember0="LabelMapVolume_1.nrrd"' in text
    reopened, ok = load_scene(tmp_path / "clean" / "scene.mrml")
    assert ok and reopened.GetFirstNodeByClass("vtkMRMLLabelMapVolumeNode").GetImageData() is not None
    # a storage node's file that is not there: named (its path as the scene has it), exit 0 as the README says
    (folder / "Data" / "vol.nrrd").unlink()
    completed = run("scrub", folder / "scene.mrml", "--output", tmp_path / "out" / "scene.mrml")
    assert completed.returncode == 0, completed.stderr
    assert "warning: the scene references Data/vol.nrrd, which is not in the input" in completed.stdout


def test_11_initial_and_surname_an_id_without_leading_zeros_and_an_unpadded_date_go(tmp_path):
    scene = dicom_scene("DOE^JOHN")
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    patient = next(item for item in (sh.GetItemByName("DOE^JOHN"),) if item)
    sh.SetItemAttribute(patient, "DICOM.PatientID", "0012345")
    sh.SetItemUID(patient, "DICOM", "0012345")
    scene.AddNewNodeByClass("vtkMRMLTextNode", "Note").SetText("by jdoe (J. Doe), id 12345, born 1970/1/1; JD agrees")
    folder = saved(scene, tmp_path / "scene")
    result = scrub_scene(folder, tmp_path / "clean")
    text = (tmp_path / "clean" / "scene.mrml").read_text()
    assert "jdoe" not in text and "J. Doe" not in text and "12345" not in text and "1970/1/1" not in text
    assert "JD agrees" in text   # initials alone stay
    assert check_scene(tmp_path / "clean", result.report.identifying_values) == []
    reopened, ok = load_scene(tmp_path / "clean" / "scene.mrml")
    assert ok
