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
    return name.startswith(DICOM_ATTRIBUTE_PREFIX)


def names_identifying_value(name: str, values) -> bool:
    """Whether a node or item name holds one of the identifying values in any spelling
    (identity_matcher). For many names, build one IdentityMatcher and ask it instead."""
    from .identity_matcher import IdentityMatcher
    matcher = values if isinstance(values, IdentityMatcher) else IdentityMatcher(values)
    return matcher.found_in(name or "")
