"""Node ids in a scene: structure, renamed only when they carry identity, and then everywhere.

A Slicer node id is its class name and a suffix ("vtkMRMLScalarVolumeNode1"): a number Slicer
counts, a singleton's tag ("vtkMRMLSliceNodeRed", "vtkMRMLSelectionNodeSingleton") or a built-in
colour table's name ("vtkMRMLColorTableNodeGrey", "vtkMRMLColorTableNodeLabels"; Slicer makes
those when it starts and does not save them, so a scene references them without defining them).
None of these identifies anybody, even for a patient named Grey, Labels or Green, and rewriting
one breaks the reference (Slicer then shows the volume without its colour table). Any other
suffix can be what a script or another program chose ("vtkMRMLTextNodeDoeJohn"): when it holds
an identifying value the id gets a neutral one, and every reference to it (references=,
colorNodeID=, a subject hierarchy item's dataNode=, scene view copies) the same new id.
An id of another form (an extension's own, a hand-edited scene's: "DoeJohnDisplay") is treated
the same way (`rename_identifying_other_ids`, `other_identifying_id_spans`): when it holds an
identifying value it gets a neutral id of Slicer's form, 'vtkMRML<element>Node<n>', everywhere.
"""
from __future__ import annotations

import re

# class name (lazy: up to its first "Node") and suffix; ids stand alone or between ';', ' ', ':'
NODE_ID = re.compile(r"(?<![A-Za-z0-9_])(?P<prefix>vtkMRML[A-Za-z0-9]*?Node)(?P<suffix>[A-Za-z0-9_]*)")
# Tags of Slicer's singleton views, also referenced by scene views that do not define them.
VIEW_TAGS = frozenset({"Red", "Green", "Yellow", "Singleton"})
# Singleton tags Slicer gives itself; any other is a name someone chose (a view's layout name:
# Slicer tags a vtkMRMLViewNode with its layoutName), and renamed when it identifies.
SLICER_TAG = re.compile(r"^(?:Red|Green|Yellow|Orange|Singleton|Default|Compare\d*|Slice\d*|View\d*|\d+|vtkMRML\w*)$")
NEUTRAL_TAG = "View"
# The names of the colour nodes Slicer makes when it starts (vtkMRMLColorLogic::AddDefaultColorNodes,
# as slicer-core 5.13 lists them): Slicer's vocabulary, not identity, where a value is exactly one of
# them (a node attribute "Color:grey"); free text holding one ("Grey scan of Grey John") is text.
BUILT_IN_COLOR_NAMES = frozenset(name.lower() for name in (
    "Labels FullRainbow Grey Iron Rainbow Ocean Desert InvertedGrey ReverseRainbow fMRI fMRIPA Random Red "
    "Green Blue Yellow Cyan Magenta Warm1 Warm2 Warm3 Cool1 Cool2 Cool3 WarmShade1 WarmShade2 WarmShade3 "
    "CoolShade1 CoolShade2 CoolShade3 WarmTint1 WarmTint2 WarmTint3 CoolTint1 CoolTint2 CoolTint3 "
    "RandomIntegers RedGreenBlue PET-Heat PET-Rainbow PET-Rainbow2 PET-DICOM PET-HotMetalBlue "
    "PET-MaximumIntensityProjection dGEMRIC-1.5T dGEMRIC-3T").split())
# a node attribute's value ('name:value' between ';' in attributes="...": mrml_codec)
_ATTRIBUTE_VALUE = re.compile(r"(?<=:)[^;:\"]+(?=;|\"|$)")


def color_value_spans(attributes: str, base: int = 0) -> list:
    """(start, end) of the node attribute values in `attributes` (a node's attributes="..." value)
    that are exactly a built-in colour's name ("Color:grey"): vocabulary, never redacted or flagged."""
    return [(base + match.start(), base + match.end()) for match in _ATTRIBUTE_VALUE.finditer(attributes)
            if match.group(0).strip().lower() in BUILT_IN_COLOR_NAMES]


def is_built_in(prefix: str, suffix: str, singleton_tags=frozenset()) -> bool:
    """Whether the id `prefix + suffix` is one Slicer gives (a counted number, a singleton's tag,
    a colour node's built-in name): never identifying, never rewritten."""
    return (not suffix or suffix.isdigit() or suffix in VIEW_TAGS or suffix in singleton_tags
            or "Color" in prefix)


def singleton_tags(root) -> frozenset:
    """The singleton tags the scene's nodes declare ("Red", "1", "vtkMRMLLayoutNode" ...)."""
    return frozenset(element.get("singletonTag") for element in root.iter() if element.get("singletonTag"))


def identifying_tags(tags, matcher) -> frozenset:
    """The singleton tags that hold a spelling `matcher` finds and are not Slicer's own."""
    return frozenset(tag for tag in tags if not SLICER_TAG.match(tag) and matcher.found_in(tag))


def rename_identifying_singletons(root, matcher) -> frozenset:
    """A singleton tag someone chose after the patient (a view's layoutName "DoeJohn") becomes a
    neutral one ("View2"), in singletonTag, layoutName and the ids made from it
    ("vtkMRMLViewNodeDoeJohn" -> "vtkMRMLViewNodeView2"), everywhere. Returns the new tags (their
    nodes' names and layout labels are then text like any other)."""
    tags = singleton_tags(root)
    old = sorted(identifying_tags(tags, matcher))
    if not old:
        return frozenset()
    new, number = {}, 1
    for tag in old:
        while f"{NEUTRAL_TAG}{number}" in tags:
            number += 1
        new[tag] = f"{NEUTRAL_TAG}{number}"
        number += 1

    def renamed_id(match):
        suffix = match.group("suffix")
        return match.group("prefix") + new[suffix] if suffix in new else match.group(0)
    for element in root.iter():
        for key, value in element.attrib.items():
            if key in ("singletonTag", "layoutName") and value in new:
                element.set(key, new[value])
            elif "vtkMRML" in value:
                changed = NODE_ID.sub(renamed_id, value)
                if changed != value:
                    element.set(key, changed)
    return frozenset(new.values())


def rename_identifying_ids(root, matcher) -> dict:
    """Give every node id that holds a spelling `matcher` finds, and is not built in, a neutral id
    ("vtkMRMLTextNodeDoeJohn" -> "vtkMRMLTextNode2", a number no id of the scene has), in every
    attribute of every element. Returns {old id: new id} (old ids are PHI)."""
    tags = singleton_tags(root)
    found = {}   # every id token of the scene, in document order
    for element in root.iter():
        for value in element.attrib.values():
            if "vtkMRML" in value:
                found.update((match.group(0), match) for match in NODE_ID.finditer(value))
    renamed = {}
    for token, match in found.items():
        prefix, suffix = match.group("prefix"), match.group("suffix")
        if is_built_in(prefix, suffix, tags) or not matcher.found_in(suffix):
            continue
        number = 1
        while f"{prefix}{number}" in found or f"{prefix}{number}" in renamed.values():
            number += 1
        renamed[token] = f"{prefix}{number}"
    if not renamed:
        return renamed
    for element in root.iter():
        for key, value in element.attrib.items():
            if "vtkMRML" in value:
                new = NODE_ID.sub(lambda m: renamed.get(m.group(0), m.group(0)), value)
                if new != value:
                    element.set(key, new)
    return renamed


_TOKEN = r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])"
_STORAGE_PATH = re.compile(r"^(fileName|fileListMember\d+)$")   # mrml_scrubber's: paths, not references
_ID_TOKEN = re.compile(r"[^;\s:]+")   # a reference list's pieces: 'display:DoeJohnDisplay;x'


def _other_identifying(value: str, matcher) -> bool:
    """Whether a node id not of Slicer's form holds a spelling `matcher` finds (a number alone is a
    subject hierarchy item's id: structure)."""
    return not value.isdigit() and not NODE_ID.fullmatch(value) and matcher.found_in(value)


def rename_identifying_other_ids(root, matcher) -> dict:
    """Give every node id that is not of Slicer's form ('vtkMRML...Node...': rename_identifying_ids)
    and holds a spelling `matcher` finds a neutral one ('DoeJohnDisplay' -> 'vtkMRMLVolumeDisplayNode1'
    for a <VolumeDisplay> element, a number no id of the scene has), and every whole-word occurrence
    of it in any attribute of any element the same. Subject hierarchy items' numeric ids are left.
    Returns {old id: new id} (old ids are PHI)."""
    defined = {element.get("id") for element in root.iter() if element.get("id")}
    renamed = {}
    for element in root.iter():
        old = element.get("id")
        if not old or old in renamed or element.tag == "SubjectHierarchyItem" or not _other_identifying(old, matcher):
            continue
        prefix = "vtkMRML" + re.sub(r"[^A-Za-z0-9]", "", str(element.tag)) + "Node"
        number = 1
        while f"{prefix}{number}" in defined or f"{prefix}{number}" in renamed.values():
            number += 1
        renamed[old] = f"{prefix}{number}"
    if not renamed:
        return renamed
    pattern = re.compile(_TOKEN % "(%s)" % "|".join(re.escape(old) for old in sorted(renamed, key=len, reverse=True)))
    for element in root.iter():
        for key, value in element.attrib.items():
            # a storage node's file name is a path, renamed with its file (mrml_scrubber), never here
            if not _STORAGE_PATH.match(key) and any(old in value for old in renamed):
                new = pattern.sub(lambda m: renamed[m.group(1)], value)
                if new != value:
                    element.set(key, new)
    return renamed


def other_identifying_id_spans(text: str, matcher) -> list:
    """(start, end) of the pieces of an id or references value that are node ids not of Slicer's form
    holding a spelling `matcher` finds (what check flags: scrub renames them)."""
    return [match.span() for match in _ID_TOKEN.finditer(text) if _other_identifying(match.group(0), matcher)]


def id_spans(text: str, matcher=None, tags=frozenset()) -> list:
    """(start, end) of the node ids in `text` that are structure: all of them (what redaction leaves
    alone: after the renaming above, the ids left are built in or identify nobody), or with
    `matcher` those built in or without a spelling it finds (what check leaves alone)."""
    if "vtkMRML" not in text:
        return []
    return [match.span() for match in NODE_ID.finditer(text)
            if matcher is None or is_built_in(match.group("prefix"), match.group("suffix"), tags)
            or not matcher.found_in(match.group("suffix"))]


def without_spans(text: str, hits: list, spans: list) -> list:
    """The hits that overlap none of `spans` (both sorted by start)."""
    if not spans:
        return hits
    return [hit for hit in hits if not any(start < hit.end and hit.start < end for start, end in spans)]
