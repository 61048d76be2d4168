"""SceneScrubberLib: decide what in a Slicer scene carries patient identity, without Slicer.

This is the start of the library (issue 4 builds the scrubber): the rule that
tells which subject hierarchy and node attributes carry identity.
"""
from .phi_attributes import DICOM_ATTRIBUTE_PREFIX, is_identifying_attribute

__all__ = ["DICOM_ATTRIBUTE_PREFIX", "is_identifying_attribute"]
