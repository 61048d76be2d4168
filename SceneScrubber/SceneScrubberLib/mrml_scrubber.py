"""Scrub a .mrml file without Slicer: what DICOM loading put into the scene goes.

Default policy (issue 4 adds options such as keeping UIDs or shifting dates):
  * every subject hierarchy item attribute and node attribute named DICOM.* is removed;
  * the item UIDs "DICOM" (Patient ID, Study/Series Instance UID) and "DICOMInstanceUID" are removed;
  * patient and study items are renamed "Patient 1", "Study 1", ... (their names come from the
    patient's name, ID, birth date and the study's description and date);
  * nodes whose names hold one of the removed values (a series description) become "Volume 1", ...

The file is parsed safely: a .mrml never has a document type, so any DOCTYPE or
ENTITY declaration (entity expansion attacks, external entities) is refused.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .mrml_codec import format_item_attributes, format_node_attributes, parse_item_attributes, parse_node_attributes
from .phi_attributes import is_identifying_attribute, names_identifying_value

IDENTIFYING_UIDS = ("DICOM", "DICOMInstanceUID")
RENAMED_LEVELS = ("Patient", "Study")
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class SceneError(Exception):
    """The scene file cannot be scrubbed; the message says why."""


@dataclass
class ScrubReport:
    removed_attributes: int = 0
    removed_uids: int = 0
    renamed_items: list = field(default_factory=list)   # (old name, new name): old names are PHI
    identifying_values: set = field(default_factory=set)  # what the scene held, to check outputs against


def scrub_mrml(data: bytes) -> tuple:
    """(scrubbed .mrml bytes, ScrubReport)."""
    if _DECLARATION.search(data):
        raise SceneError("the scene declares a DOCTYPE or ENTITY, which MRML never does: refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise SceneError(f"not a readable MRML file: {error}") from None
    if root.tag != "MRML":
        raise SceneError(f"not an MRML file (root element {root.tag!r})")
    report = ScrubReport()
    counters = {level: 0 for level in RENAMED_LEVELS}
    for item in root.iter("SubjectHierarchyItem"):
        _scrub_item(item, report, counters)
    for element in root.iter():
        if element.tag != "SubjectHierarchyItem" and element.get("attributes"):
            _scrub_node_attributes(element, report)
    _rename_nodes_named_after(root, report)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n", report


def _scrub_item(item, report: ScrubReport, counters: dict) -> None:
    attributes = parse_item_attributes(item.get("attributes", ""))
    level = dict(attributes).get("Level", "")
    kept = []
    for name, value in attributes:
        if is_identifying_attribute(name) or not name:
            report.removed_attributes += 1
            report.identifying_values.add(value)
        else:
            # Slicer cannot read a '|' inside a value back (it was corrupted when saved): keep the
            # rest of the value readable rather than write the corruption again.
            kept.append((name, value.replace("|", "/")))
    if item.get("attributes") is not None:
        item.set("attributes", format_item_attributes(kept))
    uids = parse_item_attributes(item.get("uids", ""))
    if uids:
        remaining = [(name, value) for name, value in uids if name not in IDENTIFYING_UIDS and name]
        report.removed_uids += len(uids) - len(remaining)
        report.identifying_values.update(value for name, value in uids if (name, value) not in remaining)
        item.set("uids", format_item_attributes(remaining))
    if level in counters:
        counters[level] += 1
        new_name = f"{level} {counters[level]}"
        report.renamed_items.append((item.get("name", ""), new_name))
        report.identifying_values.add(item.get("name", ""))
        item.set("name", new_name)


def _rename_nodes_named_after(root, report: ScrubReport) -> None:
    """Nodes named from DICOM values ("3: <series description>") become "<node type> <n>". Their
    data files in a bundle keep their names for now: the check reports them (issue 4)."""
    counters: dict = {}
    for node in root:
        name = node.get("name", "")
        if node.tag == "SubjectHierarchy" or not names_identifying_value(name, report.identifying_values):
            continue
        counters[node.tag] = counters.get(node.tag, 0) + 1
        node.set("name", f"{node.tag} {counters[node.tag]}")
        report.renamed_items.append((name, node.get("name")))


def _scrub_node_attributes(element, report: ScrubReport) -> None:
    attributes = parse_node_attributes(element.get("attributes"))
    kept = [(name, value) for name, value in attributes if not is_identifying_attribute(name)]
    for name, value in attributes:
        if is_identifying_attribute(name):
            report.removed_attributes += 1
            report.identifying_values.add(value)
    if len(kept) != len(attributes):
        element.set("attributes", format_node_attributes(kept))
