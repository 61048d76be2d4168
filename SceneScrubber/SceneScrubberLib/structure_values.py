"""Which values in a scene are Slicer's structure, never a patient's identity, decided by where they stand.

A patient's name part can be a word Slicer itself writes (LITTLE, SHORT, TRUE, WHITE, NONE,
POINT, LINEAR, VIEW): redacting that word where Slicer wrote it breaks the scene (an NRRD
'endian: *' makes the volume unreadable, 'selectable="*"' a boolean Slicer cannot read). So:

  * NRRD header fields (Teem's NRRD format, http://teem.sourceforge.net/nrrd/format.html: type,
    endian, encoding, dimension, sizes, space, space directions, kinds, ...) are the file's
    structure, except 'content' and per-axis 'labels', which are free text; comments ('#') and
    'key:=value' lines are text. Line by line: `nrrd_structure_line`.
  * MRML attributes are text when their name says so (ending in name, description, text, label,
    title, tags, comment, caption, attributes: 'name', 'layoutName', 'userTags',
    'sceneViewDescription', 'xColumnName'); any other attribute holds an enumeration, a boolean, a
    number or an id ('selectable', 'rulerColor', 'windowMappingMethod'). In such an attribute a
    value that is one word, and that word is one word of a name ('true' for TRUE^ANNA), is Slicer's
    vocabulary (`text_hits`); anything else found there (a whole name, 'DoeJohn', an ID, a
    date) is still redacted.

Scrub and check both use these, so check agrees with scrub on its output.
"""
from __future__ import annotations

import bisect
import json
import re

from DicomDeidentifyLib.spellings import fold, key_of

# NRRD0005 fields (both spellings Teem reads), without 'content' and 'labels' (free text)
NRRD_STRUCTURE_FIELDS = frozenset({
    "dimension", "type", "block size", "blocksize", "encoding", "endian", "min", "max", "old min", "oldmin",
    "old max", "oldmax", "data file", "datafile", "line skip", "lineskip", "byte skip", "byteskip", "number",
    "sample units", "sampleunits", "sizes", "spacings", "thicknesses", "axis mins", "axismins", "axis maxs",
    "axismaxs", "centers", "centerings", "units", "kinds", "space", "space dimension", "space units",
    "space origin", "space directions", "measurement frame",
})
_NRRD_FIELD = re.compile(r"^([A-Za-z ]+): ")
TEXT_ATTRIBUTE_ENDINGS = ("name", "description", "text", "label", "title", "tags", "comment", "caption",
                          "attributes")
_ONE_WORD = re.compile(r"[A-Za-z]+")


def nrrd_structure_line(line: str) -> bool:
    """Whether a NRRD header line is one of the format's fields other than content and labels (the
    magic 'NRRD0004' line too): never redacted, never a finding."""
    if line.startswith("NRRD"):
        return True
    if ":=" in line or line.startswith("#"):
        return False
    field = _NRRD_FIELD.match(line)
    return bool(field) and field.group(1).strip().lower() in NRRD_STRUCTURE_FIELDS


def is_text_attribute(key: str) -> bool:
    """Whether a MRML attribute holds text someone can type (see the module's text)."""
    return key.lower().endswith(TEXT_ATTRIBUTE_ENDINGS)


def text_hits(key: str, value: str, hits: list) -> list:
    """The `hits` (identity_matcher Hits) in `value` of MRML attribute or JSON key `key` that are
    identity: all of them in a text attribute; in any other, those that are not a single word of a
    person name standing alone ('true' in 'selectable="true"' or 'Visible:true', 'View' in
    'ViewTransform' for VIEW^ANNA are Slicer's vocabulary; a whole name, 'DoeJohn', an ID or a date
    stay identity)."""
    if is_text_attribute(key):
        return hits
    return [hit for hit in hits if not _one_name_word(value[hit.start:hit.end], hit)]


def _one_name_word(spelled: str, hit) -> bool:
    return (hit.kind == "name" and bool(_ONE_WORD.fullmatch(spelled))
            and key_of(fold(spelled)) in {key_of(fold(word)) for word in re.split(r"[\^\s,]+", hit.value)})


# a JSON string literal, and whether a ':' follows it (then it is a key)
_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"(\s*:)?')


def json_text_hits(text: str, hits: list) -> list:
    """The `hits` in a JSON file (markups, Slicer's own) that are identity: inside string values
    only (keys, true/false/null and numbers are the format's), filtered by `text_hits` with the
    value's key ('"label": "Doe"' is text; '"coordinateSystem": "LPS"' structure). [] when no hit.
    The text is assumed to be JSON (the caller checks it parses)."""
    if not hits:
        return hits
    strings, key = [], ""
    for match in _JSON_STRING.finditer(text):
        if match.group(1):
            key = match.group(0)[1:match.group(0).rindex('"')]
        else:
            strings.append((match.start() + 1, match.end() - 1, key))
    starts = [start for start, _end, _key in strings]
    kept = []
    for hit in hits:
        index = bisect.bisect_right(starts, hit.start) - 1
        if index < 0 or strings[index][1] < hit.end:
            continue   # outside any string value: the format's own
        start, end, key = strings[index]
        if text_hits(key, text[start:end], [_shifted(hit, -start)]):
            kept.append(hit)
    return kept


def _shifted(hit, by: int):
    return type(hit)(hit.start + by, hit.end + by, hit.value, hit.kind)


def is_json(text: str) -> bool:
    """Whether a text parses as JSON (only then are its hits read by `json_text_hits`)."""
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


# Keys Slicer's storage nodes write into NRRD headers for themselves (vtkMRMLSegmentationStorageNode:
# 'Segment0_LabelValue', 'Segmentation_MasterRepresentation'; sequences' 'DataNodeClassName', ...): the
# format's vocabulary. Any other 'key:=value' key is a node attribute's name, which a user or a
# program chose (it can carry the name: scrubbed in the .mrml, so here too).
_SLICER_HEADER_KEY = re.compile(r"^(?:Segment\d+_[A-Za-z]+|Segmentation_[A-Za-z]+|DataNodeClassName|"
                                r"axis \d+ (?:index (?:name|unit|type)|item \d+ DataNodeClassName)|"
                                r"axis \d+ index \w+)$")


def is_slicer_header_key(key: str) -> bool:
    """Whether a NRRD 'key:=value' key is one Slicer writes for itself (never redacted, never a finding)."""
    return bool(_SLICER_HEADER_KEY.match(key.strip()))
