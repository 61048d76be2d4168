"""Build test inputs byte by byte: elements stored as UN, private sequences in implicit VR,
undefined lengths, odd VR bytes. Written independently of the engine (PS3.5 7.1, 7.5, 6.2.2).

Every function returns bytes; `part10(body, transfer_syntax)` wraps a body into a file.
"""
from __future__ import annotations

import struct

from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element

EXPLICIT_LE, IMPLICIT_LE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
UNDEFINED = 0xFFFFFFFF


def _tag(tag: int) -> bytes:
    return struct.pack("<HH", tag >> 16, tag & 0xFFFF)


def pad(value: bytes, vr: str = "") -> bytes:
    return value + (b"\x00" if vr in ("UI", "OB", "UN") else b" ") * (len(value) % 2)


def explicit(tag: int, vr: str, value: bytes, undefined: bool = False) -> bytes:
    """One explicit VR little endian element (value padded to even length)."""
    if not undefined:
        value = pad(value, vr)
    if vr in LONG_VRS:
        return _tag(tag) + vr.encode() + b"\x00\x00" + struct.pack("<I", UNDEFINED if undefined else len(value)) + value
    return _tag(tag) + vr.encode() + struct.pack("<H", len(value)) + value


def implicit(tag: int, value: bytes, undefined: bool = False, vr: str = "") -> bytes:
    """One implicit VR little endian element."""
    if not undefined:
        value = pad(value, vr)
    return _tag(tag) + struct.pack("<I", UNDEFINED if undefined else len(value)) + value


def item(body: bytes, undefined: bool = False) -> bytes:
    if undefined:
        return _tag(0xFFFEE000) + struct.pack("<I", UNDEFINED) + body + _tag(0xFFFEE00D) + b"\x00" * 4
    return _tag(0xFFFEE000) + struct.pack("<I", len(body)) + body


def sequence_value(items: list, undefined: bool = False) -> bytes:
    """The value of a sequence: its items, and the sequence delimiter when of undefined length."""
    return b"".join(items) + ((_tag(0xFFFEE0DD) + b"\x00" * 4) if undefined else b"")


def un(tag: int, value: bytes, undefined: bool = False) -> bytes:
    """An element stored as UN (explicit VR): the value bytes as they would be in implicit VR."""
    return explicit(tag, "UN", value, undefined)


def pydicom_elements(dataset, implicit_vr: bool = False, skip=()) -> dict:
    """{tag: encoded element} of a pydicom data set's top-level elements, as pydicom writes them."""
    from pydicom.charset import convert_encodings
    encodings = convert_encodings(dataset.get("SpecificCharacterSet", "ISO_IR 6") or "ISO_IR 6")
    encoded = {}
    for tag in dataset.keys():
        if int(tag) in skip:
            continue
        buffer = DicomBytesIO()
        buffer.is_little_endian, buffer.is_implicit_VR = True, implicit_vr
        write_data_element(buffer, dataset[tag], encodings)
        encoded[int(tag)] = buffer.getvalue()
    return encoded


def body(dataset, overrides: dict, implicit_vr: bool = False) -> bytes:
    """The data set's elements (as pydicom encodes them) with `overrides` {tag: bytes} put in
    place or added, in tag order (None removes the element)."""
    elements = pydicom_elements(dataset, implicit_vr, skip=set(overrides))
    elements.update({tag: data for tag, data in overrides.items() if data is not None})
    return b"".join(elements[tag] for tag in sorted(elements))


def part10(data_set: bytes, transfer_syntax: str, sop_class: str, sop_instance: str) -> bytes:
    """Preamble, 'DICM', file meta (explicit VR little endian) and the given body."""
    def uid(value):
        return pad(value.encode(), "UI")
    meta_body = (explicit(0x00020001, "OB", b"\x00\x01") + explicit(0x00020002, "UI", uid(sop_class))
                 + explicit(0x00020003, "UI", uid(sop_instance)) + explicit(0x00020010, "UI", uid(transfer_syntax)))
    meta = explicit(0x00020000, "UL", struct.pack("<I", len(meta_body))) + meta_body
    return b"\x00" * 128 + b"DICM" + meta + data_set


def file_from(dataset, overrides: dict, transfer_syntax: str = EXPLICIT_LE) -> bytes:
    """A whole file: `dataset`'s elements with `overrides`, in the given transfer syntax."""
    return part10(body(dataset, overrides, transfer_syntax == IMPLICIT_LE), transfer_syntax,
                  str(dataset.SOPClassUID), str(dataset.SOPInstanceUID))
