"""SceneScrubberLib: decide what in a Slicer scene carries patient identity, without Slicer.

This is the start of the library (issue 4 builds the scrubber): the rule that
tells which subject hierarchy and node attributes carry identity, and the
codecs of the attribute formats in .mrml files, and the offline .mrml scrubber.
"""
from .mrml_codec import (format_item_attributes, format_node_attributes, parse_item_attributes,
                         parse_node_attributes)
from .mrml_scrubber import SceneError, ScrubReport, scrub_mrml
from .phi_attributes import DICOM_ATTRIBUTE_PREFIX, is_identifying_attribute

__all__ = ["DICOM_ATTRIBUTE_PREFIX", "is_identifying_attribute", "parse_item_attributes",
           "format_item_attributes", "parse_node_attributes", "format_node_attributes", "scrub_mrml",
           "ScrubReport", "SceneError"]
