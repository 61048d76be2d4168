"""The attribute formats of .mrml files, checked against real scenes written and read by slicer-core."""
import xml.etree.ElementTree as ET

import pytest
import slicer

from support.scenes import hierarchy_items, load_scene
from SceneScrubberLib.mrml_codec import (format_item_attributes, format_node_attributes, parse_item_attributes,
                                         parse_node_attributes)


def dicom_scene(path, patient_name="Doe^John", comments="seen 2024-01-30; follow-up: 6% growth"):
    """A scene with a patient item and a volume node carrying DICOM attributes, committed to `path`."""
    scene = slicer.vtkMRMLScene()
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    patient = sh.CreateSubjectItem(sh.GetSceneItemID(), patient_name)
    sh.SetItemAttribute(patient, "DICOM.PatientName", patient_name)
    sh.SetItemAttribute(patient, "DICOM.PatientID", "MRN12345")
    sh.SetItemAttribute(patient, "DICOM.PatientComments", comments)
    sh.SetItemUID(patient, "DICOM", "MRN12345")
    volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "1: CT head")
    volume.SetAttribute("DICOM.instanceUIDs", "1.2.3.4 1.2.3.5")
    volume.SetAttribute("DICOM.Comment", "a;b:c%d|e^f")
    scene.SetURL(str(path))
    assert scene.Commit()
    return scene


def read_back(path):
    """What Slicer itself reads from the file: item attributes and uids, node attributes."""
    scene, _connected = load_scene(path)
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    items = [({n: sh.GetItemAttribute(item, n) for n in sh.GetItemAttributeNames(item)}, sh.GetItemUID(item, "DICOM"))
             for item in hierarchy_items(scene)]
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    return items, {n: volume.GetAttribute(n) for n in volume.GetAttributeNames()}


def xml_items(path):
    return [e for e in ET.parse(path).iter("SubjectHierarchyItem") if e.get("name") != "Scene"]


def test_item_attributes_read_as_slicer_reads_them(tmp_path):
    path = tmp_path / "scene.mrml"
    dicom_scene(path)
    (attributes, uid), = read_back(path)[0]
    element, = xml_items(path)
    assert dict(parse_item_attributes(element.get("attributes"))) == attributes
    assert dict(parse_item_attributes(element.get("uids"))) == {"DICOM": uid}
    assert format_item_attributes(parse_item_attributes(element.get("attributes"))) == element.get("attributes")


def test_a_bar_in_a_value_is_read_whole_where_slicer_splits_it(tmp_path):
    path = tmp_path / "scene.mrml"
    dicom_scene(path, patient_name="Doe^John|Jr")
    (attributes, _uid), = read_back(path)[0]
    assert attributes["DICOM.PatientName"] == "Doe^John" and attributes.get("Jr") == "Jr"   # Slicer's reading
    element, = xml_items(path)
    parsed = dict(parse_item_attributes(element.get("attributes")))
    assert parsed["DICOM.PatientName"] == "Doe^John|Jr" and "Jr" not in parsed
    with pytest.raises(ValueError):
        format_item_attributes([("DICOM.PatientName", "Doe^John|Jr")])


def test_node_attributes_read_and_written_as_slicer_does(tmp_path):
    path = tmp_path / "scene.mrml"
    dicom_scene(path)
    _items, node_attributes = read_back(path)
    volume = next(e for e in ET.parse(path).iter("Volume"))
    assert dict(parse_node_attributes(volume.get("attributes"))) == node_attributes
    # what this module writes, Slicer reads back the same
    text = path.read_text()
    written = format_node_attributes([("Note", "x;y%z:w"), ("DICOM.instanceUIDs", "9.8.7")])
    old = f'attributes="{_xml_attribute(volume.get("attributes"))}"'
    assert old in text
    path.write_text(text.replace(old, f'attributes="{_xml_attribute(written)}"'))
    assert read_back(path)[1] == {"Note": "x;y%z:w", "DICOM.instanceUIDs": "9.8.7"}


def _xml_attribute(value: str) -> str:
    """A value as it stands between quotes in the file (the XML writer escapes only these)."""
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
