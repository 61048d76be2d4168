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

import io
import posixpath
import re
import xml.etree.ElementTree as ET
from urllib.parse import quote, unquote, urlparse
from dataclasses import dataclass, field

from .mrml_codec import format_item_attributes, format_node_attributes, parse_item_attributes, parse_node_attributes
from .identity_matcher import REPLACEMENT, IdentityMatcher, is_neutral_name, matcher_for
from .node_ids import (color_value_spans, id_spans, rename_identifying_ids, rename_identifying_other_ids,
                       rename_identifying_singletons, without_spans)
from .phi_attributes import is_descriptive_attribute, is_identifier_attribute
from .policy import ScrubPolicy
from .structure_values import is_text_attribute, text_hits

IDENTIFYING_UIDS = ("DICOM", "DICOMInstanceUID")
RENAMED_LEVELS = ("Patient", "Study")
_STORAGE_PATH = re.compile(r"^(fileName|fileListMember\d+)$")
# Attributes whose values are Slicer's vocabulary or ids, never text someone typed: a patient named
# Green must not rename the Green slice view or break its layout name. Ids and references hold node
# ids only: those that carry identity are renamed consistently (node_ids), the rest are structure.
# userTags (the user's own key=value pairs) is free text; so are a view's name, layoutName and
# layoutLabel, except on Slicer's singleton nodes (SINGLETON_TEXT: "Red", "R"; their composite nodes
# name the same layout).
STRUCTURE_ATTRIBUTES = frozenset({"id", "references", "singletonTag", "orientation",
                        "orientationReference", "viewGroup", "className", "type"})
SINGLETON_TEXT = frozenset({"name", "layoutName", "layoutLabel"})
NEUTRAL_PART = "anon"   # what replaces an identifying value in a file or folder name
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
MAX_DEPTH = 256

try:   # defusedxml (pyproject's dependency): the parser that refuses DTDs, entities and external references
    from defusedxml import DefusedXmlException as _FORBIDDEN
    from defusedxml.ElementTree import iterparse as _defused_iterparse

    def _iterparse(stream, events):
        return _defused_iterparse(stream, events=events, forbid_dtd=True, forbid_entities=True,
                                  forbid_external=True)
except ImportError:   # a Slicer without it (Slicer does not bundle defusedxml)
    class _FORBIDDEN(Exception):
        pass

    def _refuse(*unused):
        raise _FORBIDDEN()

    def _iterparse(stream, events):
        # expat itself (it decodes UTF-16 and other encodings, which the byte check above cannot see)
        # reports any DOCTYPE or entity declaration before ElementTree parses the scene
        from xml.parsers import expat
        data = stream.read()
        scanner = expat.ParserCreate()
        scanner.StartDoctypeDeclHandler = _refuse
        scanner.EntityDeclHandler = _refuse
        try:
            scanner.Parse(data, True)
        except expat.ExpatError as error:
            raise ET.ParseError(str(error)) from None
        return ET.iterparse(io.BytesIO(data), events=events)


class SceneError(Exception):
    """The scene file cannot be scrubbed; the message says why."""


@dataclass
class ScrubReport:
    """What scrubbing took out and renamed: counts of removed attributes and UIDs, renamed items, files and
    nodes, and the identifying, descriptive and identifier values found (kept only in memory, to check
    outputs against; never written or logged)."""
    removed_attributes: int = 0
    removed_uids: int = 0
    renamed_items: list = field(default_factory=list)   # (old name, new name): old names are PHI
    renamed_files: dict = field(default_factory=dict)   # old path -> new path, relative to the .mrml
    identifying_values: set = field(default_factory=set)  # what the scene held, to check outputs against
    descriptive_values: set = field(default_factory=set)  # series and study descriptions...: rename nodes only
    relocated_files: list = field(default_factory=list)  # referenced from outside the scene folder, moved to Data/
    renamed_nodes: dict = field(default_factory=dict)    # node id -> neutral name (live scenes)
    screenshot_files: list = field(default_factory=list)  # images of scene view storage nodes, as the input names them
    identifier_values: set = field(default_factory=set)  # IDs (phi_attributes.IDENTIFIER_KEYWORDS): matched as terms


def identifying_values(data: bytes, policy: ScrubPolicy | None = None) -> set:
    """What scrubbing a .mrml with `policy` takes out (its DICOM values and UIDs, the names of its
    patient and study items), without scrubbing it."""
    return _scrub_dicom(parse_mrml(data), policy or ScrubPolicy())[1].identifying_values


def identifier_values(data: bytes, policy: ScrubPolicy | None = None) -> set:
    """The IDs among identifying_values (phi_attributes.IDENTIFIER_KEYWORDS), matched at any length
    from three characters, as terms are."""
    return _scrub_dicom(parse_mrml(data), policy or ScrubPolicy())[1].identifier_values


def _scrub_dicom(root, policy: ScrubPolicy) -> tuple:
    """(root, ScrubReport): DICOM attributes and UIDs removed by the policy, patient and study items
    renamed; the values they held are in the report."""
    report = ScrubReport()
    counters = {level: 0 for level in RENAMED_LEVELS}
    new_item_names: dict = {}
    for item in root.iter("SubjectHierarchyItem"):
        _scrub_item(item, report, counters, policy, new_item_names)
    for element in root.iter():
        if element.tag != "SubjectHierarchyItem" and element.get("attributes"):
            _scrub_node_attributes(element, report, policy)
    report.identifying_values.discard("")
    report.descriptive_values -= report.identifying_values | {""}
    return root, report


def scrub_mrml(data: bytes, policy: ScrubPolicy | None = None, terms=(), values=()) -> tuple:
    """(scrubbed .mrml bytes, ScrubReport); the policy says what may stay (default: nothing).
    `terms`: more identifying values to take out (the user's own, any 3+ characters); `values`:
    more values known to identify (a live scene's, with the rules of scene values).

    After the DICOM attributes and UIDs go, every value they held (and every term) is taken
    out of everything else the scene writes, in any spelling (identity_matcher): nodes and items
    named after one get neutral names, data files and folders named after one too (the storage
    nodes' references follow), and any other attribute or text has the spelling replaced by '*'.
    Descriptive values (a series description: phi_attributes.DESCRIPTIVE_KEYWORDS) only rename the
    nodes, and their files, named after them.
    Node copies in scene views (the automatic "Master Scene View" of older Slicer versions
    included) get the same neutral names as the live nodes they copy."""
    root, report = _scrub_dicom(parse_mrml(data), policy or ScrubPolicy())
    matcher, name_matcher = report_matchers(report, values, terms)
    # screenshots: legacy scene views' images and Slicer 4 Annotations snapshots (a .png each), by the
    # names the input has (before renaming: a view named after the patient names its image so too)
    report.screenshot_files = [reference_path(value).replace("\\", "/") for element in root.iter()
                               if element.tag in SCREENSHOT_STORAGE_TAGS for _key, value in storage_paths(element)]
    _rename_nodes_named_after(root, report, name_matcher)
    _relocate_external_files(root, report)
    renamed_tags = frozenset()
    if matcher:
        renamed_tags = rename_identifying_singletons(root, matcher)
        rename_identifying_ids(root, matcher)
        rename_identifying_other_ids(root, matcher)
    _redact_everything_else(root, matcher, renamed_tags)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n", report


# Storage nodes whose files are screenshots of the views (vtkMRMLSceneViewStorageNode,
# vtkMRMLAnnotationSnapshotStorageNode: XML tags are the class names without 'vtkMRML' and 'Node').
SCREENSHOT_STORAGE_TAGS = frozenset({"SceneViewStorage", "AnnotationSnapshotStorage"})


def parse_mrml(data: bytes):
    """The MRML root element, parsed safely with defusedxml: a scene never declares a DOCTYPE or
    ENTITY, so one that does (entity expansion, external entities) is refused, and so is one nested
    deeper than MAX_DEPTH elements (real scenes nest a few levels per subject hierarchy level or
    scene view; a 5,000-deep file is an attack on the recursive writers that come after)."""
    if _DECLARATION.search(data):
        raise SceneError("the scene declares a DOCTYPE or ENTITY, which MRML never does: refused")
    depth, root = 0, None
    try:
        for event, element in _iterparse(io.BytesIO(data), events=("start", "end")):
            if event == "start":
                depth += 1
                if root is None:
                    root = element
                if depth > MAX_DEPTH:
                    raise SceneError(f"the scene nests elements deeper than {MAX_DEPTH} levels: refused")
            else:
                depth -= 1
    except _FORBIDDEN:
        raise SceneError("the scene declares a DOCTYPE or ENTITY, which MRML never does: refused") from None
    except ET.ParseError as error:
        raise SceneError(f"not a readable MRML file: {error}") from None
    if root is None or root.tag != "MRML":
        raise SceneError("not an MRML file (its root element is not MRML)")
    return root


def report_matchers(report: ScrubReport, values=(), terms=()) -> tuple:
    """(matcher of contents, matcher of names) for what a scrub took out: one rule for the offline
    scrubber, its bundles and the live scene (Save dialog, panel). Contents: the identifying values
    and `values` (more known to identify), with the IDs among them (report.identifier_values:
    PatientID, OtherPatientIDs, AccessionNumber, MedicalRecordLocator, a patient item's DICOM UID)
    and `terms` matched as terms, from 3 characters, as the DICOM text cleaner matches them
    (identity_matcher); names (nodes, files, folders) also lose the descriptive values."""
    terms = set(terms) | report.identifier_values
    return (matcher_for(report.identifying_values | set(values), terms),
            matcher_for(report.identifying_values | report.descriptive_values | set(values), terms))


def taken_out_uid(report: ScrubReport, uid_name: str, uid: str, level: str) -> None:
    """Note a subject hierarchy UID the policy took out: identifying, and an ID when it is a patient
    item's DICOM UID (its PatientID, as Slicer's DICOM plugins set it)."""
    report.identifying_values.add(uid)
    if level == "Patient" and uid_name == "DICOM" and uid:
        report.identifier_values.add(uid)


def taken_out(report: ScrubReport, attribute: str, value: str) -> None:
    """Note a value the policy took out: identifying, or only descriptive (phi_attributes)."""
    (report.descriptive_values if is_descriptive_attribute(attribute) else report.identifying_values).add(value)
    if is_identifier_attribute(attribute) and value:
        report.identifier_values.add(value)


def _scrub_item(item, report: ScrubReport, counters: dict, policy: ScrubPolicy, new_names: dict) -> None:
    attributes = parse_item_attributes(item.get("attributes", ""))
    level = dict(attributes).get("Level", "")
    kept = []
    for name, value in attributes:
        new = policy.attribute(name, value) if name else None
        if new != value:
            taken_out(report, name, value)
        if new is None:
            report.removed_attributes += 1
        else:
            # Slicer cannot read a '|' inside a value back (it was corrupted when saved): keep the
            # rest of the value readable rather than write the corruption again.
            kept.append((name, new.replace("|", "/")))
    if item.get("attributes") is not None:
        item.set("attributes", format_item_attributes(kept))
    original_uids = item.get("uids", "")
    uids = parse_item_attributes(original_uids)
    if uids:
        remaining = [(name, value) for name, value in uids
                     if name and (name not in IDENTIFYING_UIDS or policy.item_uid(name, level))]
        report.removed_uids += len(uids) - len(remaining)
        for name, value in uids:
            if (name, value) not in remaining:
                taken_out_uid(report, name, value, level)
        item.set("uids", format_item_attributes(remaining))
    if level in counters:
        # the same item in a scene view's copy of the hierarchy (other item ids, same DICOM UIDs)
        # gets the same neutral name
        key = (level, original_uids or item.get("name", ""))
        if key not in new_names:
            counters[level] += 1
            new_names[key] = f"{level} {counters[level]}"
        new_name = new_names[key]
        old_name = item.get("name", "")
        if not is_neutral_name(old_name):   # a scrubbed scene's "Patient 1" identifies nobody (issue 14.1)
            report.renamed_items.append((old_name, new_name))
            report.identifying_values.add(old_name)
        item.set("name", new_name)


def _rename_nodes_named_after(root, report: ScrubReport, matcher: IdentityMatcher) -> None:
    """Nodes named from DICOM values ("3: <series description>") become "<node type> <n>"; a copy
    of a node in a scene view gets the live node's neutral name (same id). Data files named after
    an identifying value get their node's neutral name (or "<node type>_<n>" if the node's own
    name identifies nobody), and folders in their paths the neutral folder name."""
    if not matcher:
        return
    counters: dict = {}
    new_names: dict = {}      # (tag, id) -> neutral name
    owners: dict = {}         # storage node id -> data node element
    for node in _node_elements(root):
        for storage_id in re.findall(r"storage:([^;]+)", node.get("references", "")):
            owners.setdefault(storage_id, node)
        name = node.get("name", "")
        if node.get("singletonTag") or not matcher.found_in(name):
            continue   # Slicer's own singletons (views, layout, selection) are named by Slicer
        key = (node.tag, node.get("id") or name)
        if key not in new_names:
            counters[node.tag] = counters.get(node.tag, 0) + 1
            new_names[key] = f"{node.tag} {counters[node.tag]}"
            report.renamed_items.append((name, new_names[key]))
            if node.get("id"):
                report.renamed_nodes[node.get("id")] = new_names[key]
        node.set("name", new_names[key])
    stems: dict = {}
    for storage_node in _node_elements(root):
        if not storage_paths(storage_node):
            continue
        owner = owners.get(storage_node.get("id"))

        def stem(owner=owner, storage_node=storage_node) -> str:
            if owner is None:
                tag = storage_node.tag
            elif (owner.tag, owner.get("id") or "") in new_names:
                return new_names[(owner.tag, owner.get("id") or "")].replace(" ", "_")
            else:
                tag = owner.tag
            key = (tag, (owner if owner is not None else storage_node).get("id"))
            if key not in stems:
                counters[tag] = counters.get(tag, 0) + 1
                stems[key] = f"{tag}_{counters[tag]}"
            return stems[key]
        _rename_stored_file(storage_node, stem, report, matcher)


def _node_elements(root) -> list:
    """The scene's nodes, then the node copies inside scene views (any depth), in document order;
    never the subject hierarchy's items (their names are handled by level)."""
    top = [node for node in root if node.tag != "SubjectHierarchy"]
    nested = [element for node in top for element in node.iter() if element is not node
              and element.get("id") is not None and element.tag not in ("SubjectHierarchy", "SubjectHierarchyItem")]
    return top + nested


def _rename_stored_file(storage_node, stem, report: ScrubReport, matcher: IdentityMatcher) -> None:
    """Paths are URL-encoded and relative to the scene ("Data/3%253a%20Axial.nhdr"), in fileName and,
    for readers that take a file list, in fileListMember<n> too: every one whose file name holds an
    identifying value gets `stem()` as name (its format's suffixes kept), and folders in it that
    hold one the neutral folder name (neutral_path). The same old path always gets the same new one.
    The pieces of a VTK multiblock file (a closed-surface segmentation's '.seg.vtm' lists them as
    fileListMember1...: '<name>/<name>_<i>.vtp' beside it, as vtkXMLMultiBlockDataWriter names them)
    follow its new name the same way ('<new name>/<new name>_<i>.vtp'), as the scrubber writes them
    (bundles, vtk_xml_files)."""
    paths = sorted(storage_paths(storage_node), key=lambda path: path[0] != "fileName")   # the file first
    pieces = None   # (old prefix, new prefix) of a multiblock file's pieces
    beside = members_beside_file(storage_node)
    old_folder = posixpath.dirname(reference_path(storage_node.get("fileName") or "").replace("\\", "/"))
    for key, value in paths:
        old = reference_path(value)
        if beside and key != "fileName" and _beside(old) and old_folder:
            # an archetype's file list is relative to its file's folder: renamed as the scene's path
            old = posixpath.normpath(posixpath.join(old_folder, old.replace("\\", "/")))
        if pieces and old.startswith(pieces[0]) and old not in report.renamed_files:
            report.renamed_files[old] = pieces[1] + old[len(pieces[0]):]
        if old in report.renamed_files:
            new = report.renamed_files[old]
        else:
            folder, _, base = old.replace("\\", "/").rpartition("/")
            if matcher.found_in(base):
                base = stem() + file_suffixes(base)
            new = (neutral_path(folder, matcher) + "/" + base) if folder else base
            if new != old:
                report.renamed_files[old] = new
        if key == "fileName" and old.lower().endswith((".vtm", ".vtp")) and new != old:
            pieces = (_pieces_prefix(old), _pieces_prefix(new))
        if new != old:
            written = new
            if beside and key != "fileName" and old_folder and _beside(reference_path(value)):
                new_folder = posixpath.dirname(reference_path(storage_node.get("fileName") or "").replace("\\", "/"))
                written = posixpath.relpath(new, new_folder or ".")
            storage_node.set(key, quote(written, safe="/"))


# Storage nodes whose file list (fileListMember<n>) can name files relative to the folder of their
# fileName (vtkMRMLVolumeArchetypeStorageNode lists the files of the archetype's folder by name:
# 'Data/x.nrrd' lists 'x.nrrd' after WriteData); a member with a folder is the scene's path, as
# the scene's Commit writes it ('case_Private/x.nrrd').
MEMBERS_BESIDE_FILE = frozenset({"VolumeArchetypeStorage"})


def _beside(member: str) -> bool:
    """Whether a list member names a file by name alone (no folder: beside its fileName)."""
    return "/" not in member.replace("\\", "/") and not _leaves_scene_folder(member)


def members_beside_file(element) -> bool:
    """Whether a storage element's file list members are named by name alone, beside its fileName
    (MEMBERS_BESIDE_FILE: the volume archetype storage node)."""
    return element.tag in MEMBERS_BESIDE_FILE


def scene_reference(element, key: str, value: str) -> str:
    """The file a storage node's fileName/fileListMember names, relative to the scene (or absolute):
    an archetype's relative list member joined to its fileName's folder (MEMBERS_BESIDE_FILE)."""
    path = reference_path(value)
    if key != "fileName" and members_beside_file(element) and _beside(path):
        folder = posixpath.dirname(reference_path(element.get("fileName") or "").replace("\\", "/"))
        if folder:
            return posixpath.normpath(posixpath.join(folder, path.replace("\\", "/")))
    return path


def _pieces_prefix(path: str) -> str:
    """'Data/x.seg.vtm' -> 'Data/x.seg/x.seg': where vtkXMLMultiBlockDataWriter puts a file's pieces."""
    folder, _, base = path.replace("\\", "/").rpartition("/")
    name = base.rsplit(".", 1)[0]
    return f"{folder}/{name}/{name}" if folder else f"{name}/{name}"


def neutral_path(path: str, matcher: IdentityMatcher) -> str:
    """A relative path with every spelling of an identifying value in its folders and file name
    replaced by NEUTRAL_PART ('DOE_JOHN_chest/Doe Jonathan.mrml' -> 'anon_chest/anon.mrml');
    '..' and the format's suffixes are kept. The same path always gives the same result."""
    parts = path.split("/")
    return "/".join(part if part in ("", ".", "..") else matcher.redact(part, NEUTRAL_PART) for part in parts)


def _redact_everything_else(root, matcher: IdentityMatcher, renamed_tags=frozenset()) -> None:
    """Any other string the scene writes (descriptions, a text node's text, names of items that
    are not patients or studies, color and segment names kept in the scene): the spellings of
    identifying values become '*'. Ids, references and storage paths are structure, left alone
    (paths were renamed above)."""
    if not matcher:
        return
    cache: dict = {}   # scenes repeat most values ("true", "Level^Series|", "0 0 0")
    for element in root.iter():
        for key, value in element.attrib.items():
            if key in STRUCTURE_ATTRIBUTES or _STORAGE_PATH.match(key) or not value or (key in SINGLETON_TEXT and element.get("singletonTag")
                                                                                       and element.get("singletonTag") not in renamed_tags):
                continue
            node_attributes = key == "attributes" and element.tag != "SubjectHierarchyItem"
            text = is_text_attribute(key)   # else an enumeration, boolean, number or id (structure_values)
            redacted = cache.get((node_attributes, text, value))
            if redacted is None:
                redacted = cache[(node_attributes, text, value)] = _redacted_outside_ids(
                    value, matcher, node_attributes, key if not text else "name")
            if redacted != value:
                element.set(key, redacted)
        if element.text and element.text.strip():
            element.text = matcher.redact(element.text)
        if element.tail and element.tail.strip():
            element.tail = matcher.redact(element.tail)


def _redacted_outside_ids(value: str, matcher: IdentityMatcher, node_attributes: bool = False,
                          key: str = "name") -> str:
    """`value` (of attribute `key`) with the spellings replaced by '*', except inside node ids
    (node_ids: renamed before when they identify; a built-in one such as vtkMRMLColorTableNodeGrey
    stays whole), in a node's attributes, values that are a built-in colour's name ("Color:grey" for a
    patient named Grey), and Slicer's vocabulary in attributes that are not text ('selectable="true"'
    for TRUE^ANNA: structure_values.text_hits)."""
    text = is_text_attribute(key)
    spans = id_spans(value)
    if node_attributes:
        spans = sorted(spans + color_value_spans(value))
    if not spans and text:
        return matcher.redact(value)
    hits = matcher.hits(value)
    if not text:
        hits = text_hits(key, value, hits)
    pieces, last = [], 0
    for hit in without_spans(value, hits, spans):
        pieces += [value[last:hit.start], REPLACEMENT]
        last = hit.end
    return "".join(pieces) + value[last:]


def reference_path(value: str) -> str:
    """The file a storage node's fileName/fileListMember names, decoded: a path as written, or the
    path of a local `file:` URI ('file:///data/x.nrrd' -> '/data/x.nrrd', RFC 8089), so that it is
    read, brought in or refused like any path. SceneError for a URI of another machine or scheme."""
    path = unquote(value)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", path):   # a scheme (one letter is a Windows drive)
        parsed = urlparse(path)
        if parsed.scheme.lower() != "file":
            raise SceneError("a storage node names a URI, not a file: refused (only local files are read)")
        if parsed.netloc not in ("", "localhost"):
            raise SceneError("a storage node names a file on another machine (a file: URI with a host): refused")
        return unquote(parsed.path)
    return path


def storage_paths(element) -> list:
    """(attribute, URL-encoded path) of every file a storage node names."""
    return [(key, value) for key, value in element.attrib.items() if _STORAGE_PATH.match(key) and value]


def _relocate_external_files(root, report: ScrubReport) -> None:
    """Data stored outside the scene folder is referenced by a path that can name the patient
    ("../Patients/DOE_JOHN/..."): the scrubbed scene references it in its own "Data/" folder
    instead (the folder and bundle writers put the file there)."""
    original_of = {new: old for old, new in report.renamed_files.items()}
    for element in root.iter():
        file_name = reference_path(element.get("fileName") or "")
        # a multiblock file's pieces keep their folder beside it ('Data/x.seg/x.seg_0.vtp': _rename_stored_file)
        pieces = _pieces_prefix(file_name) if file_name.lower().endswith((".vtm", ".vtp")) else None
        for key, value in storage_paths(element):
            current = reference_path(value)
            if not _leaves_scene_folder(current):
                continue   # (an archetype's relative list members follow their fileName: scene_reference)
            keep = 2 if pieces and current.replace("\\", "/").startswith(pieces) else 1
            new = "Data/" + "/".join(current.replace("\\", "/").split("/")[-keep:])
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
            taken_out(report, name, value)
        if new is None:
            report.removed_attributes += 1
        else:
            kept.append((name, new))
    if kept != attributes:
        element.set("attributes", format_node_attributes(kept))
