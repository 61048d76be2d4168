"""The skeleton's rule: every attribute Slicer's DICOM plugins write counts as identifying."""
from SceneScrubberLib import is_identifying_attribute


def test_dicom_attributes_are_identifying_others_are_not():
    for name in ("DICOM.PatientName", "DICOM.PatientBirthDate", "DICOM.instanceUIDs", "DICOM.StudyDate"):
        assert is_identifying_attribute(name)
    for name in ("Color", "Directory", "DICOMPatient", "dicom.patientname"):
        assert not is_identifying_attribute(name)
