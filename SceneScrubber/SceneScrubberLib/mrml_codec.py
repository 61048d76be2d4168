"""How Slicer serializes attributes in a .mrml file, read and written without Slicer.

Two formats (checked against the MRML that slicer-core writes):

* Subject hierarchy items, `attributes="Name^value|Name^value|"` and
  `uids="DICOM^1.2.3|"`: each entry is a name, '^', the value, then '|'.
  Nothing is escaped: a value holding '|' (a patient name typed with one)
  corrupts the item, and Slicer reads it back as a cut value plus a bogus
  attribute. This reader joins such pieces back onto the value they came
  from, so that no fragment of an identifying value is taken for a harmless
  attribute; the writer refuses to write a value it could not read back.
* Node attributes, `attributes="name:value;name:value"`: '%' is written as
  '%25' and ';' as '%3B'; the name ends at the first ':'.
"""
from __future__ import annotations

import re

_ITEM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def parse_item_attributes(text: str) -> list:
    """[(name, value)] of a subject hierarchy item's attributes (or uids) string."""
    pairs: list = []
    for piece in (text or "").split("|"):
        name, separator, value = piece.partition("^")
        if separator and _ITEM_NAME.match(name):
            pairs.append([name, value])
        elif pairs:
            pairs[-1][1] += "|" + piece   # a '|' inside the previous value
        elif piece:
            pairs.append(["", piece])     # text before any entry: keep it, so nothing goes unseen
    if pairs and text.endswith("|") and pairs[-1][1].endswith("|"):
        pairs[-1][1] = pairs[-1][1][:-1]  # the entry terminator, not part of the value
    return [(name, value) for name, value in pairs]


def format_item_attributes(pairs) -> str:
    """The attributes (or uids) string of a subject hierarchy item for [(name, value)] pairs, 'name^value|' each.
    Raises ValueError for a name Slicer cannot read back or a value holding '|' (it would corrupt the item)."""
    for name, value in pairs:
        if not _ITEM_NAME.match(name):
            raise ValueError(f"not an attribute name Slicer can read back: {name!r}")
        if "|" in value:
            raise ValueError(f"{name}: a value with '|' would corrupt the item in Slicer")
    return "".join(f"{name}^{value}|" for name, value in pairs)


def parse_node_attributes(text: str) -> list:
    """[(name, value)] of a node's attributes string."""
    pairs = []
    for piece in (text or "").split(";"):
        if not piece:
            continue
        name, _, value = piece.partition(":")
        pairs.append((_unescape(name), _unescape(value)))
    return pairs


def format_node_attributes(pairs) -> str:
    """A node's attributes string for [(name, value)] pairs: 'name:value' joined by ';', with '%' and ';' escaped
    as Slicer's vtkMRMLNode writes them."""
    return ";".join(f"{_escape(name)}:{_escape(value)}" for name, value in pairs)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace(";", "%3B")


def _unescape(text: str) -> str:
    return text.replace("%3B", ";").replace("%25", "%")
