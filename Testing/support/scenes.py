"""Scenes as Slicer's DICOM plugins leave them, built with slicer-core's real MRML classes."""
import slicer
import vtk

# The identifying values dicom_scene puts into the scene.
PHI = ["Doe^John", "MRN12345", "19700101", "Head CT for John Doe", "1.2.840.99.1", "1.2.840.99.2",
       "1.2.840.99.3 1.2.840.99.4"]


def dicom_scene(patient_name: str = "Doe^John", series_description: str = ""):
    """Patient, study and series items with their DICOM attributes and UIDs, and a volume node with
    image data, a DICOM node attribute and a NRRD storage node (which copies attributes into headers).

    A series description also ends up in the node name ("3: Axial") and so in data file names,
    which the scrubber does not rename yet (issue 4): only tests that check the PHI list use one."""
    scene = slicer.vtkMRMLScene()
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    patient = sh.CreateSubjectItem(sh.GetSceneItemID(), patient_name)
    for name, value in (("PatientName", patient_name), ("PatientID", "MRN12345"), ("PatientBirthDate", "19700101"),
                        ("PatientSex", "M")):
        sh.SetItemAttribute(patient, f"DICOM.{name}", value)
    sh.SetItemUID(patient, "DICOM", "MRN12345")
    study = sh.CreateStudyItem(patient, "Head CT for John Doe")
    sh.SetItemAttribute(study, "DICOM.StudyDescription", "Head CT for John Doe")
    sh.SetItemAttribute(study, "DICOM.StudyInstanceUID", "1.2.840.99.1")
    sh.SetItemUID(study, "DICOM", "1.2.840.99.1")
    volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "3: Axial")
    image = vtk.vtkImageData()
    image.SetDimensions(8, 8, 3)
    image.AllocateScalars(vtk.VTK_SHORT, 1)
    image.GetPointData().GetScalars().Fill(0)   # AllocateScalars leaves memory as it was: it can hold any string
    volume.SetAndObserveImageData(image)
    volume.SetAttribute("DICOM.instanceUIDs", "1.2.840.99.3 1.2.840.99.4")
    volume.SetAttribute("Color", "grey")
    storage = scene.AddNewNodeByClass("vtkMRMLNRRDStorageNode")
    volume.SetAndObserveStorageNodeID(storage.GetID())
    series = sh.CreateItem(study, volume)
    sh.SetItemUID(series, "DICOM", "1.2.840.99.2")
    if series_description:
        sh.SetItemAttribute(series, "DICOM.SeriesDescription", series_description)
    return scene


def hierarchy_items(scene) -> list:
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    ids = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), ids, True)
    return [ids.GetId(index) for index in range(ids.GetNumberOfIds())]


def load_scene(path):
    """(scene, whether Slicer's reader reported success)."""
    scene = slicer.vtkMRMLScene()
    scene.SetURL(str(path))
    return scene, bool(scene.Connect())
