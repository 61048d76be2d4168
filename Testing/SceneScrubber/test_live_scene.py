"""Scrubbing a live scene for saving: the written files hold no identity, the scene comes back exactly."""
import slicer

from SceneScrubberLib.scene_check import check_scene
from SceneScrubberLib.live_scene import scrub_scene, scrubbed_for_saving, take_snapshot

from support.scenes import PHI, dicom_scene


def test_saving_a_scrubbed_scene_then_restoring_it(tmp_path):
    scene = dicom_scene("Doe^John|Jr", series_description="Axial")   # the volume is named "3: Axial"
    before = take_snapshot(scene)
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    (tmp_path / "bundle").mkdir()
    with scrubbed_for_saving(scene) as report:
        assert logic.SaveSceneToSlicerDataBundleDirectory(str(tmp_path / "bundle"), None)
        assert logic.Zip(str(tmp_path / "scene.mrb"), str(tmp_path / "bundle"))
    assert set(PHI) - {"Doe^John", "Head CT for John Doe"} <= report.identifying_values
    assert check_scene(tmp_path / "scene.mrb", report.identifying_values | set(PHI) | {"Jr", "Axial"}) == []
    after = take_snapshot(scene)
    assert after.items == before.items   # names, attributes and UIDs exactly as they were
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetID()
    assert after.nodes[volume] == before.nodes[volume]
    assert after.nodes[volume] == ("3: Axial", {"DICOM.instanceUIDs": "1.2.840.99.3 1.2.840.99.4", "Color": "grey"})


def test_scrubbing_for_good(tmp_path):
    scene = dicom_scene()
    report = scrub_scene(scene)
    snapshot = take_snapshot(scene)
    assert [name for name, _a, _u in snapshot.items.values()][:2] == ["Patient 1", "Study 1"]
    assert not any(a.startswith("DICOM.") for _n, attributes, _u in snapshot.items.values() for a in attributes)
    assert all(not uids for _n, _a, uids in snapshot.items.values())
    assert report.removed_uids == 3 and report.renamed_items[0] == ("Doe^John", "Patient 1")
    scene.SetURL(str(tmp_path / "scene.mrml"))
    assert scene.Commit()
    assert check_scene(tmp_path / "scene.mrml", set(PHI)) == []


def test_text_in_nodes_is_scrubbed_for_saving_and_put_back(tmp_path):
    """Segment names and descriptions, markups labels and descriptions, a text node, table cells and a
    user color name spell the patient's name or ID: scrubbed while saving, exactly restored after."""
    import vtk
    from SceneScrubberLib.live_scene import scrubbed_for_saving, take_snapshot
    scene = dicom_scene()
    scene.RegisterNodeClass(slicer.vtkMRMLMarkupsJsonStorageNode())
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Segmentation")
    labelmap = slicer.vtkOrientedImageData()
    labelmap.SetDimensions(2, 2, 1)
    labelmap.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 1)
    segment = slicer.vtkSegment()
    segment.SetName("John Doe tumor")
    segment.SetTag("Description", "of DOE^JOHN")
    segment.AddRepresentation("Binary labelmap", labelmap)
    segmentation.GetSegmentation().AddSegment(segment, "tumor")
    points = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "F")
    points.AddControlPoint(vtk.vtkVector3d(0, 0, 0), "MRN12345")
    points.SetNthControlPointDescription(0, "Doe, John")
    scene.AddNewNodeByClass("vtkMRMLTextNode", "Note").SetText("seen doe-john")
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", "T")
    table.AddColumn().SetName("DoeJohn")
    table.AddEmptyRow()
    table.SetCellText(0, 0, "MRN 12345")
    colors = scene.AddNewNodeByClass("vtkMRMLColorTableNode", "Colors")
    colors.SetTypeToUser()
    colors.SetNumberOfColors(1)
    colors.SetColor(0, "John_Doe", 1, 0, 0, 1)
    before = take_snapshot(scene)
    seen = {}
    with scrubbed_for_saving(scene):
        seen["segment"] = segmentation.GetSegmentation().GetSegment("tumor").GetName()
        description = vtk.reference("")
        segmentation.GetSegmentation().GetSegment("tumor").GetTag("Description", description)
        seen["description"] = description.get()
        seen["point"] = (points.GetNthControlPointLabel(0), points.GetNthControlPointDescription(0))
        seen["text"] = scene.GetFirstNodeByName("Note").GetText()
        seen["table"] = (table.GetColumnName(0), table.GetCellText(0, 0))
        seen["color"] = colors.GetColorName(0)
    assert seen == {"segment": "* tumor", "description": "of *", "point": ("*", "*"), "text": "seen *",
                    "table": ("*", "*"), "color": "*"}
    assert take_snapshot(scene) == before
    assert segmentation.GetSegmentation().GetSegment("tumor").GetName() == "John Doe tumor"
    assert table.GetCellText(0, 0) == "MRN 12345" and colors.GetColorName(0) == "John_Doe"


def _next_save_proposes(scene):
    """The scene row the Save dialog starts from: QFileInfo(QDir(root directory), URL)
    (qSlicerSaveDataDialog.cxx populateScene, main 277-281)."""
    import os
    return os.path.join(scene.GetRootDirectory(), scene.GetURL())


def test_n3_after_a_scrubbed_copy_the_scene_still_points_at_the_users_own_file(tmp_path):
    """N3: Slicer's scene writer moves the URL and root directory to the file it writes (qSlicerSceneWriter.cxx
    writeToMRML 129-130, writeToMRB 168-169). After a scrubbed copy they are the user's again, so the next
    ordinary Save does not propose the shared copy."""
    own, share = tmp_path / "data", tmp_path / "share"
    own.mkdir()
    share.mkdir()
    scene = dicom_scene()
    scene.SetRootDirectory(str(own))
    scene.SetURL(str(own / "case.mrml"))
    with scrubbed_for_saving(scene) as report:
        scene.SetURL(str(share / "case.mrml"))       # as writeToMRML does before Commit
        scene.SetRootDirectory(str(share))
        assert scene.Commit()
        scene.SetURL(str(share / "case.mrb"))        # as writeToMRB does before WriteToMRB
        assert scene.WriteToMRB(str(share / "case.mrb"))
    assert check_scene(share / "case.mrml", report.identifying_values) == []
    assert check_scene(share / "case.mrb", report.identifying_values) == []
    assert (scene.GetURL(), scene.GetRootDirectory()) == (str(own / "case.mrml"), str(own))
    assert _next_save_proposes(scene) == str(own / "case.mrml")


def test_n3_a_scene_that_had_no_file_gets_none_from_the_copy(tmp_path):
    scene = dicom_scene()
    root = scene.GetRootDirectory()
    with scrubbed_for_saving(scene):
        scene.SetURL(str(tmp_path / "shared.mrb"))
        scene.SetRootDirectory(str(tmp_path))
        assert scene.WriteToMRB(str(tmp_path / "shared.mrb"))
    assert (scene.GetURL() or "", scene.GetRootDirectory()) == ("", root)


def test_n3_after_a_scrubbed_mrml_save_the_nodes_point_at_their_own_files_again(tmp_path):
    """N3, node rows: saving a node row points its storage node at the file written (qSlicerNodeWriter::write:
    SetFileName, SetWriteFileFormat, SetURI(nullptr), WriteData). After a scrubbed .mrml save into the shared
    folder, each node is back on its own file, so the next ordinary Save of a modified node does not write the
    identified data over the shared copy; the shared scene still references the copies it was saved with."""
    import vtk
    from SceneScrubberLib.live_scene import apply_plan, plan_scrub, restore
    own, share = tmp_path / "data", tmp_path / "share"
    own.mkdir()
    share.mkdir()
    scene = dicom_scene(series_description="Axial")   # the volume "3: Axial" is renamed "Volume 1"
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    storage = volume.GetStorageNode()
    storage.SetFileName(str(own / "3 Axial.nrrd"))
    assert storage.WriteData(volume)
    assert not volume.GetModifiedSinceRead()
    new = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "Mask")   # never saved: no storage node
    image = vtk.vtkImageData()
    image.SetDimensions(2, 2, 2)
    image.AllocateScalars(vtk.VTK_SHORT, 1)
    new.SetAndObserveImageData(image)
    snapshot = take_snapshot(scene)
    plan = plan_scrub(snapshot)
    apply_plan(scene, plan)
    for node, name in ((volume, "Volume 1.nrrd"), (new, "Mask.nrrd")):   # as the dialog's node rows are saved
        if node.GetStorageNode() is None:
            node.AddDefaultStorageNode()
        node.GetStorageNode().SetFileName(str(share / name))
        node.GetStorageNode().SetWriteFileFormat("nrrd")
        node.GetStorageNode().SetURI(None)
        assert node.GetStorageNode().WriteData(node)
    scene.SetURL(str(share / "case.mrml"))
    scene.SetRootDirectory(str(share))
    assert scene.Commit()
    restore(scene, snapshot)
    assert volume.GetStorageNode().GetFileName() == str(own / "3 Axial.nrrd")
    assert not volume.GetModifiedSinceRead()            # its own file holds its data
    assert new.GetStorageNode() is None                 # as a node never saved
    assert new.GetModifiedSinceRead()                   # so the next Save writes it
    from urllib.parse import unquote
    written = unquote((share / "case.mrml").read_text())   # MRML writes file names URL-encoded
    assert 'fileName="Volume 1.nrrd"' in written and "3 Axial" not in written
    assert check_scene(share / "case.mrml", plan.report.identifying_values) == []


def test_n3_a_node_modified_before_the_scrubbed_save_is_still_modified_on_its_own_file(tmp_path):
    """Its own file does not hold the changes (only the shared copy does): the next ordinary Save must write it."""
    from SceneScrubberLib.live_scene import restore
    scene = dicom_scene()
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    storage = volume.GetStorageNode()
    storage.SetFileName(str(tmp_path / "own.nrrd"))
    assert storage.WriteData(volume)
    volume.StorableModified()   # edited since
    assert volume.GetModifiedSinceRead()
    snapshot = take_snapshot(scene)
    storage.SetFileName(str(tmp_path / "Volume 1.nrrd"))   # the scrubbed save's node row
    assert storage.WriteData(volume)
    assert not volume.GetModifiedSinceRead()
    restore(scene, snapshot)
    assert storage.GetFileName() == str(tmp_path / "own.nrrd") and volume.GetModifiedSinceRead()
