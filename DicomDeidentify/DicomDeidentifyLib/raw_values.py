"""Read a few values without making pydicom decode their elements.

pydicom decodes an element the first time its value is asked for, and a decoded element
can no longer be written back as the bytes it was read as (dicom_writer's fast path).
The reader's checks and the burned-in risk only look at a handful of values of elements
the profile keeps unchanged (Rows, Modality, SOP Class UID, ...): read from the raw bytes,
those elements stay raw and are copied to the output as they were.
"""
from __future__ import annotations

import struct

from .dicom_writer import dictionary_vr_or_empty

_INTEGER_FORMATS = {"US": "H", "UL": "L", "SS": "h", "SL": "l"}


def _raw(dataset, tag):
    """(raw element or None, decoded element or None)."""
    try:
        item = dataset.get_item(tag)
    except KeyError:
        return None, None
    if item is None:
        return None, None
    return (item, None) if getattr(item, "is_raw", False) else (None, item)


def texts(dataset, tag: int) -> list:
    """The values of a string element (CS, UI, LO, IS, ...), as text; [] if absent."""
    raw, element = _raw(dataset, tag)
    if raw is not None:
        text = (raw.value or b"").decode("latin-1").rstrip(" \x00")
        return [value.strip(" \x00") for value in text.split("\\")] if text else []
    if element is None or element.value is None:
        return []
    value = element.value
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value]
    return [str(value)] if str(value) != "" else []


def text(dataset, tag: int) -> str:
    """The values of a string element (texts) joined with backslashes, stripped: one str, '' if absent.
    A raw element stays raw (decoded as Latin-1 here: meant for ASCII values such as codes and UIDs)."""
    return "\\".join(texts(dataset, tag)).strip()


def integer(dataset, tag: int):
    """The first value of an integer element (US, UL, SS, SL, IS) as int, or None."""
    raw, element = _raw(dataset, tag)
    if raw is None:
        if element is None or element.value in (None, ""):
            return None
        value = element.value
        value = value[0] if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else value
        return int(value)
    vr = raw.VR or dictionary_vr_or_empty(tag)
    data = raw.value or b""
    if vr in _INTEGER_FORMATS:
        size = struct.calcsize(_INTEGER_FORMATS[vr])
        if len(data) < size:
            return None
        order = "<" if raw.is_little_endian else ">"
        return struct.unpack(order + _INTEGER_FORMATS[vr], data[:size])[0]
    values = texts(dataset, tag)
    return int(values[0]) if values and values[0].lstrip("+-").isdigit() else None

