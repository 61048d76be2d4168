"""Issue 14, item 6: the live scene's scrub (Save dialog, panel) and the offline scrubber use one rule
(mrml_scrubber.report_matchers): IDs such as a five-digit PatientID are matched from three characters on
both paths, so the same slicer-core scene scrubbed live and offline comes out the same."""
from pathlib import Path

import slicer
import vtk

from SceneScrubberLib.bundles import scrub_scene as scrub_offline
from SceneScrubberLib.identity_matcher import matcher_for
from SceneScrubberLib.live_scene import scrub_scene as scrub_live, take_snapshot
from SceneScrubberLib.scene_check import check_scene
from support.scenes import dicom_scene, hierarchy_items

SHORT_ID, ACCESSION = "48151", "7342"


def identified_scene():
    """dicom_scene with a five-digit PatientID and a four-digit accession number, both also typed into a
    text node, a table cell and a markups label (where only the value's rule can find them)."""
    scene = dicom_scene()
    scene.RegisterNodeClass(slicer.vtkMRMLMarkupsJsonStorageNode())
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    patient, study = hierarchy_items(scene)[:2]
    sh.SetItemAttribute(patient, "DICOM.PatientID", SHORT_ID)
    sh.SetItemAttribute(study, "DICOM.AccessionNumber", ACCESSION)
    scene.AddNewNodeByClass("vtkMRMLTextNode", "Note").SetText(f"case {SHORT_ID} (accession {ACCESSION}) by Doe")
    table = scene.AddNewNodeByClass("vtkMRMLTableNode", "T")
    table.AddColumn().SetName("case")
    table.AddEmptyRow()
    table.SetCellText(0, 0, f"{SHORT_ID}, 12 mm")
    points = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "F")
    points.AddControlPoint(vtk.vtkVector3d(0, 0, 0), f"id {SHORT_ID}")
    return scene


def save(scene, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for index in range(scene.GetNumberOfNodes()):
        node = scene.GetNthNode(index)
        if node.IsA("vtkMRMLStorableNode") and not node.IsA("vtkMRMLTextNode") and not node.GetHideFromEditors():
            if node.GetStorageNode() is None:
                assert node.AddDefaultStorageNode(), node.GetClassName()
            storage = node.GetStorageNode()
            storage.SetFileName(str(folder / f"{node.GetID()}{storage.GetDefaultWriteFileExtension() and '.' + storage.GetDefaultWriteFileExtension()}"))
            assert storage.WriteData(node), node.GetClassName()
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    return folder / "scene.mrml"


def view(scene) -> tuple:
    """What a scrub decides, as the scene shows it: item names and attributes, node names, node texts."""
    snapshot = take_snapshot(scene)
    return (sorted((name, tuple(sorted(attributes.items()))) for name, attributes, _uids in snapshot.items.values()),
            {node_id: name for node_id, (name, _attributes) in snapshot.nodes.items()
             if not node_id.startswith(("vtkMRMLSelection", "vtkMRMLInteraction", "vtkMRMLSubjectHierarchy"))},
            snapshot.texts)


def test_the_same_scene_scrubbed_live_and_offline_comes_out_the_same(tmp_path):
    original = save(identified_scene(), tmp_path / "original")
    result = scrub_offline(original.parent, tmp_path / "offline")
    offline_scene = slicer.vtkMRMLScene()
    offline_scene.RegisterNodeClass(slicer.vtkMRMLMarkupsJsonStorageNode())
    offline_scene.SetURL(str(tmp_path / "offline" / "scene.mrml"))
    assert offline_scene.Connect()
    live = identified_scene()
    report = scrub_live(live)
    assert report.identifier_values >= {SHORT_ID, ACCESSION} and result.report.identifier_values >= {SHORT_ID, ACCESSION}
    live_view, offline_view = view(live), view(offline_scene)
    assert live_view[0] == offline_view[0]
    assert {key: value for key, value in live_view[1].items() if key in offline_view[1]} == \
        {key: value for key, value in offline_view[1].items() if key in live_view[1]}
    assert live_view[2] == offline_view[2]
    texts = [text for node_texts in live_view[2].values() for text in node_texts.values()]
    assert texts and not any(SHORT_ID in text or ACCESSION in text or "Doe" in text for text in texts), texts
    # and the check agrees on both: the live scene saved after its scrub, and the offline output
    live_saved = save(live, tmp_path / "live")
    values = result.report.identifying_values
    terms = result.report.identifier_values
    assert check_scene(live_saved, matcher_for(values, terms)) == check_scene(tmp_path / "offline", matcher_for(values, terms)) == []


def test_the_save_paths_pass_the_ids_on_to_the_check_after_saving():
    """The Save dialog hook and the panel's scrubbed save hand the live report's IDs to the check after
    saving (after_save.finish_saved_scene through save_decisions.carry_out), read from the glue's source."""
    import ast
    root = Path(__file__).resolve().parents[2] / "SceneScrubber"
    hook = ast.unparse(ast.parse((root / "SceneScrubberSlicer" / "save_dialog_hook.py").read_text()))
    assert "self._finish(decision, plan.report.identifying_values, policy, plan.report.identifier_values)" in hook
    assert "carry_out(decision, values, policy, identifiers)" in hook
    panel = ast.unparse(ast.parse((root / "SceneScrubber.py").read_text()))
    assert "finish_saved_scene(path, report.identifying_values, policy, report.identifier_values)" in panel
