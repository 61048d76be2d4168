"""Scrub a .mrml file without Slicer: what DICOM loading put into the scene goes.

What goes by default (policy.py has the options: keep UIDs, shift dates):
  * every subject hierarchy item attribute and node attribute named DICOM.* is removed;
  * the item UIDs "DICOM" (Patient ID, Study/Series Instance UID) and "DICOMInstanceUID" are removed;
  * patient and study items are renamed "Patient 1", "Study 1", ... (their names come from the
    patient's name, ID, birth date and the study's description and date);
  * nodes whose names hold one of the removed values (a series description) become "Volume 1", ...

The file is parsed safely: a .mrml never has a document type, so any DOCTYPE or
ENTITY declaration (entity expansion attacks, external entities) is refused.
"""
from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from urllib.parse import quote, unquote
from dataclasses import dataclass, field

from .mrml_codec import format_item_attributes, format_node_attributes, parse_item_attributes, parse_node_attributes
from .phi_attributes import names_identifying_value
from .policy import ScrubPolicy

IDENTIFYING_UIDS = ("DICOM", "DICOMInstanceUID")
RENAMED_LEVELS = ("Patient", "Study")
_STORAGE_PATH = re.compile(r"^(fileName|fileListMember\d+)$")
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class SceneError(Exception):
    """The scene file cannot be scrubbed; the message says why."""


@dataclass
class ScrubReport:
    removed_attributes: int = 0
    removed_uids: int = 0
    renamed_items: list = field(default_factory=list)   # (old name, new name): old names are PHI
    renamed_files: dict = field(default_factory=dict)   # old path -> new path, relative to the .mrml
    identifying_values: set = field(default_factory=set)  # what the scene held, to check outputs against
    relocated_files: list = field(default_factory=list)  # referenced from outside the scene folder, moved to Data/
    renamed_nodes: dict = field(default_factory=dict)    # node id -> neutral name (live scenes)
    screenshot_files: list = field(default_factory=list)  # images of scene view storage nodes, as the scene names them


def scrub_mrml(data: bytes, policy: ScrubPolicy | None = None) -> tuple:
    """(scrubbed .mrml bytes, ScrubReport); the policy says what may stay (default: nothing)."""
    policy = policy or ScrubPolicy()
    root = parse_mrml(data)
    report = ScrubReport()
    counters = {level: 0 for level in RENAMED_LEVELS}
    for item in root.iter("SubjectHierarchyItem"):
        _scrub_item(item, report, counters, policy)
    for element in root.iter():
        if element.tag != "SubjectHierarchyItem" and element.get("attributes"):
            _scrub_node_attributes(element, report, policy)
    _rename_nodes_named_after(root, report)
    _relocate_external_files(root, report)
    report.screenshot_files = [unquote(value) for element in root.iter("SceneViewStorage")
                               for _key, value in storage_paths(element)]
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n", report


def parse_mrml(data: bytes):
    """The MRML root element, parsed safely: a scene never declares a DOCTYPE or ENTITY, so one that
    does (entity expansion, external entities) is refused."""
    if _DECLARATION.search(data):
        raise SceneError("the scene declares a DOCTYPE or ENTITY, which MRML never does: refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise SceneError(f"not a readable MRML file: {error}") from None
    if root.tag != "MRML":
        raise SceneError(f"not an MRML file (root element {root.tag!r})")
    return root


def _scrub_item(item, report: ScrubReport, counters: dict, policy: ScrubPolicy) -> None:
    attributes = parse_item_attributes(item.get("attributes", ""))
    level = dict(attributes).get("Level", "")
    kept = []
    for name, value in attributes:
        new = policy.attribute(name, value) if name else None
        if new != value:
            report.identifying_values.add(value)
        if new is None:
            report.removed_attributes += 1
        else:
            # Slicer cannot read a '|' inside a value back (it was corrupted when saved): keep the
            # rest of the value readable rather than write the corruption again.
            kept.append((name, new.replace("|", "/")))
    if item.get("attributes") is not None:
        item.set("attributes", format_item_attributes(kept))
    uids = parse_item_attributes(item.get("uids", ""))
    if uids:
        remaining = [(name, value) for name, value in uids
                     if name and (name not in IDENTIFYING_UIDS or policy.item_uid(name, level))]
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
    """Nodes named from DICOM values ("3: <series description>") become "<node type> <n>", and the
    files their storage nodes write (named after them when saved) get the same neutral name."""
    counters: dict = {}
    storage = {node.get("id"): node for node in root if node.get("fileName") is not None}
    for node in root:
        name = node.get("name", "")
        if node.tag == "SubjectHierarchy" or not names_identifying_value(name, report.identifying_values):
            continue
        counters[node.tag] = counters.get(node.tag, 0) + 1
        new_name = f"{node.tag} {counters[node.tag]}"
        node.set("name", new_name)
        report.renamed_items.append((name, new_name))
        for storage_id in re.findall(r"storage:([^;]+)", node.get("references", "")):
            if storage_id in storage:
                _rename_stored_file(storage[storage_id], new_name.replace(" ", "_"), report)


def _rename_stored_file(storage_node, stem: str, report: ScrubReport) -> None:
    """Paths are URL-encoded and relative to the scene ("Data/3%253a%20Axial.nhdr"), in fileName and,
    for readers that take a file list, in fileListMember<n> too: every one that names an
    identifying value gets the node's neutral name."""
    for key, value in storage_paths(storage_node):
        old = unquote(value)
        folder, _, base = old.rpartition("/")
        if not names_identifying_value(base, report.identifying_values):
            continue
        new = f"{folder}/{stem}{file_suffixes(base)}" if folder else f"{stem}{file_suffixes(base)}"
        storage_node.set(key, quote(new, safe="/"))
        report.renamed_files[old] = new


def storage_paths(element) -> list:
    """(attribute, URL-encoded path) of every file a storage node names."""
    return [(key, value) for key, value in element.attrib.items() if _STORAGE_PATH.match(key) and value]


def _relocate_external_files(root, report: ScrubReport) -> None:
    """Data stored outside the scene folder is referenced by a path that can name the patient
    ("../Patients/DOE_JOHN/..."): the scrubbed scene references it in its own "Data/" folder
    instead (the folder and bundle writers put the file there)."""
    original_of = {new: old for old, new in report.renamed_files.items()}
    for element in root:
        for key, value in storage_paths(element):
            current = unquote(value)
            if not _leaves_scene_folder(current):
                continue
            new = "Data/" + current.replace("\\", "/").rpartition("/")[2]
            element.set(key, quote(new, safe="/"))
            original = original_of.get(current, current)
            report.renamed_files[original] = new
            if original not in report.relocated_files:
                report.relocated_files.append(original)


def _leaves_scene_folder(path: str) -> bool:
    path = path.replace("\\", "/")
    return path.startswith("/") or bool(re.match(r"^[A-Za-z]:", path)) or \
        posixpath.normpath(path).split("/")[0] == ".."


def file_suffixes(name: str) -> str:
    """'3%3a Axial.seg.nrrd' -> '.seg.nrrd': the part after the node name that says the format."""
    match = re.search(r"(\.[A-Za-z0-9]+){1,2}$", name)
    return match.group(0) if match else ""


def _scrub_node_attributes(element, report: ScrubReport, policy: ScrubPolicy) -> None:
    attributes = parse_node_attributes(element.get("attributes"))
    kept = []
    for name, value in attributes:
        new = policy.attribute(name, value)
        if new != value:
            report.identifying_values.add(value)
        if new is None:
            report.removed_attributes += 1
        else:
            kept.append((name, new))
    if kept != attributes:
        element.set("attributes", format_node_attributes(kept))
