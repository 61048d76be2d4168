"""Which attributes of a Slicer scene can carry patient identity.

Slicer's DICOM plugins copy header values into subject hierarchy item attributes
and node attributes named "DICOM.<keyword>" (DICOM.PatientName,
DICOM.StudyDate, DICOM.instanceUIDs, ...). Until the scrubber's full policy
exists, every such attribute counts as identifying: nothing is let through by
omission.
"""
from __future__ import annotations

DICOM_ATTRIBUTE_PREFIX = "DICOM."


def is_identifying_attribute(name: str) -> bool:
    """Whether a subject hierarchy or node attribute name can carry identity: every "DICOM." attribute."""
    return name.startswith(DICOM_ATTRIBUTE_PREFIX)


# What DICOM loading copies that describes the acquisition, not the person: it goes with the other
# DICOM.* attributes, and nodes named after it ("3: Axial") are renamed, but it is not looked for
# in the rest of the scene: "Axial" or "HEAD" are also words Slicer writes (a slice node's
# orientation="Axial"), and a check or scrub that took them for identity would flag or break every scene.
DESCRIPTIVE_KEYWORDS = frozenset({
    "StudyDescription", "SeriesDescription", "SeriesModality", "Modality", "SeriesNumber", "AcquisitionNumber",
    "InstanceNumber", "BodyPartExamined", "ProtocolName", "ImageType", "Manufacturer", "ManufacturerModelName",
    "StudyTime", "SeriesTime", "ContentTime", "AcquisitionTime", "PatientSex", "SliceThickness",
})


def is_descriptive_attribute(name: str) -> bool:
    """Whether an attribute (DICOM.<keyword>) describes the acquisition rather than the person."""
    return name.startswith(DICOM_ATTRIBUTE_PREFIX) and name[len(DICOM_ATTRIBUTE_PREFIX):] in DESCRIPTIVE_KEYWORDS


def names_identifying_value(name: str, values) -> bool:
    """Whether a node or item name holds one of the identifying values in any spelling
    (identity_matcher). For many names, build one IdentityMatcher and ask it instead."""
    from .identity_matcher import IdentityMatcher
    matcher = values if isinstance(values, IdentityMatcher) else IdentityMatcher(values)
    return matcher.found_in(name or "")


# Attributes whose value is an ID whatever its shape: matched at any length from three characters, as
# the user's terms are (a five-digit PatientID '48151' is an ID, not a count), not only from six digits.
IDENTIFIER_KEYWORDS = frozenset({"PatientID", "OtherPatientIDs", "AccessionNumber", "MedicalRecordLocator"})


def is_identifier_attribute(name: str) -> bool:
    """Whether an attribute (DICOM.<keyword>) holds an ID (IDENTIFIER_KEYWORDS)."""
    return name.startswith(DICOM_ATTRIBUTE_PREFIX) and name[len(DICOM_ATTRIBUTE_PREFIX):] in IDENTIFIER_KEYWORDS
