"""SceneScrubberLib: decide what in a Slicer scene carries patient identity, without Slicer.

The rules of what carries identity (phi_attributes, policy), one matcher of identifying
values as people write them (identity_matcher, for scrub, check and the panel), the codecs
of the attribute formats in .mrml files, the offline scrubber of .mrml files, folders and
bundles and its check, and the live scrub through the MRML API.
"""
from .identity_matcher import IdentityMatcher, matcher_for
from .mrml_codec import (format_item_attributes, format_node_attributes, parse_item_attributes,
                         parse_node_attributes)
from .mrml_scrubber import SceneError, ScrubReport, scrub_mrml
from .phi_attributes import DICOM_ATTRIBUTE_PREFIX, is_identifying_attribute

__all__ = ["DICOM_ATTRIBUTE_PREFIX", "is_identifying_attribute", "parse_item_attributes",
           "format_item_attributes", "parse_node_attributes", "format_node_attributes", "scrub_mrml",
           "ScrubReport", "SceneError", "IdentityMatcher", "matcher_for"]
