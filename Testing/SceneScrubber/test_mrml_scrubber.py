"""Scrubbing a .mrml file offline, checked by reloading it with slicer-core."""
import pytest
import slicer
import vtk

from SceneScrubberLib.mrml_scrubber import SceneError, scrub_mrml

PHI = ["Doe^John", "MRN12345", "19700101", "Head CT for John Doe", "1.2.840.99.1", "1.2.840.99.2",
       "1.2.840.99.3 1.2.840.99.4"]


def dicom_scene(path, patient_name="Doe^John"):
    """Patient, study and series items as Slicer's DICOM plugins make them, and a volume node."""
    scene = slicer.vtkMRMLScene()
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    patient = sh.CreateSubjectItem(sh.GetSceneItemID(), f"{patient_name} (MRN12345)")
    for name, value in (("PatientName", patient_name), ("PatientID", "MRN12345"), ("PatientBirthDate", "19700101"),
                        ("PatientSex", "M")):
        sh.SetItemAttribute(patient, f"DICOM.{name}", value)
    sh.SetItemUID(patient, "DICOM", "MRN12345")
    study = sh.CreateStudyItem(patient, "Head CT for John Doe (20240130)")
    sh.SetItemAttribute(study, "DICOM.StudyDescription", "Head CT for John Doe")
    sh.SetItemAttribute(study, "DICOM.StudyInstanceUID", "1.2.840.99.1")
    sh.SetItemUID(study, "DICOM", "1.2.840.99.1")
    volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "3: Axial")
    volume.SetAttribute("DICOM.instanceUIDs", "1.2.840.99.3 1.2.840.99.4")
    volume.SetAttribute("Color", "grey")
    series = sh.CreateItem(study, volume)
    sh.SetItemUID(series, "DICOM", "1.2.840.99.2")
    sh.SetItemAttribute(series, "DICOM.SeriesDescription", "Axial")
    scene.SetURL(str(path))
    assert scene.Commit()


def load(path):
    scene = slicer.vtkMRMLScene()
    scene.SetURL(str(path))
    assert scene.Connect()
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    ids = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), ids, True)
    items = []
    for index in range(ids.GetNumberOfIds()):
        item = ids.GetId(index)
        items.append({"name": sh.GetItemName(item), "level": sh.GetItemLevel(item),
                      "attributes": {n: sh.GetItemAttribute(item, n) for n in sh.GetItemAttributeNames(item)},
                      "uid": sh.GetItemUID(item, "DICOM"), "node": sh.GetItemDataNode(item)})
    return scene, items


def test_a_scrubbed_scene_loads_with_its_structure_and_without_identity(tmp_path):
    original = tmp_path / "scene.mrml"
    dicom_scene(original)
    data = original.read_bytes()
    assert all(value.encode() in data for value in PHI)
    scrubbed, report = scrub_mrml(data)
    output = tmp_path / "scrubbed.mrml"
    output.write_bytes(scrubbed)
    for value in PHI:
        assert value.encode() not in scrubbed, value
    assert set(PHI) <= report.identifying_values
    scene, items = load(output)
    _, before = load(original)
    assert [i["level"] for i in items] == [i["level"] for i in before] == ["Patient", "Study", ""]
    assert [i["name"] for i in items[:2]] == ["Patient 1", "Study 1"]
    assert not any(name.startswith("DICOM.") for i in items for name in i["attributes"])
    assert all(not i["uid"] for i in items)
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    assert volume.GetName() == "3: Axial" and volume.GetAttribute("Color") == "grey"
    assert volume.GetAttribute("DICOM.instanceUIDs") is None
    assert items[2]["node"] is not None and items[2]["node"].GetID() == volume.GetID()


def test_a_bar_in_a_patient_name_leaves_no_fragment(tmp_path):
    original = tmp_path / "scene.mrml"
    dicom_scene(original, patient_name="Doe^John|Junior")
    scrubbed, _ = scrub_mrml(original.read_bytes())
    assert b"Junior" not in scrubbed and b"Doe" not in scrubbed
    (tmp_path / "out.mrml").write_bytes(scrubbed)
    _, items = load(tmp_path / "out.mrml")
    assert not any("Junior" in name for i in items for name in i["attributes"])


@pytest.mark.parametrize("data, reason", [
    (b'<?xml version="1.0"?><!DOCTYPE MRML [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><MRML>&b;</MRML>', "DOCTYPE"),
    (b'<?xml version="1.0"?><!DOCTYPE MRML SYSTEM "file:///etc/passwd"><MRML/>', "DOCTYPE"),
    (b"<MRML><SubjectHierarchy", "not a readable MRML"),
    (b"<svg/>", "not an MRML file"),
])
def test_hostile_or_broken_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(SceneError, match=reason):
        scrub_mrml(data)
