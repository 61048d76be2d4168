"""Decode an element as the VR it really has, when the file does not say it (or says UN).

* A public element stored as UN whose tag the data dictionary knows is decoded as its
  dictionary VR (PS3.5 6.2.2: UN is what a writer uses for a VR it did not know). The value
  of a sequence stored as UN is implicit VR little endian, whatever the transfer syntax
  (PS3.5 6.2.2, CP-246), of defined or undefined length.
* A private attribute kept as safe is decoded as the VR the safe table gives it (PS3.15
  Table E.3.10-1), not the one pydicom's private dictionary guesses in implicit VR.

The bytes of a sequence are checked by structure_check's scanner (the same reading that
checked the file) before pydicom parses them. Whatever cannot be decoded as the VR raises
Undecodable: the engine removes such an element and says so, it never keeps it unjudged.
"""
from __future__ import annotations

import io
import struct
import warnings

import pydicom
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.filereader import read_sequence
from pydicom.sequence import Sequence

from .errors import error_kind
from .structure_check import StructureError, check_items

PYDICOM_MAJOR = int(pydicom.__version__.split(".")[0])
UNDEFINED_LENGTH = 0xFFFFFFFF
ITEM_TAG = b"\xfe\xff\x00\xe0"   # (FFFE,E000) little endian


# The VRs of PS3.5 Table 6.2-1 (2024). Bytes in a VR field that are none of these ('LK') say nothing
# about the value: the element is judged as its dictionary VR, like one stored as UN.
KNOWN_VRS = frozenset({"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF",
                       "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN",
                       "UR", "US", "UT", "UV"})


class Undecodable(Exception):
    """The value's bytes are not a valid value of the VR they were to be decoded as."""


def plain_vr(vr) -> str:
    """A VR as a plain str: pydicom 2.4's VR enum prints as 'VR.SQ'."""
    return "" if vr is None else str.__str__(vr) if isinstance(vr, str) else str(vr)


def stored_bytes(element):
    """(value bytes, length as stored, implicit, little) of a raw element, or of a decoded one
    that still holds bytes (pydicom leaves long UN values as UN); None for anything else."""
    value = element.value
    if value is None:
        value = b""
    if not isinstance(value, (bytes, bytearray)):
        return None
    if getattr(element, "is_raw", False):
        return bytes(value), element.length, element.is_implicit_VR, element.is_little_endian
    length = UNDEFINED_LENGTH if getattr(element, "is_undefined_length", False) else len(value)
    return bytes(value), length, False, True


def looks_like_sequence(value: bytes, length: int) -> bool:
    """Undefined length, or a value that starts with an item: only a sequence is stored so."""
    return length == UNDEFINED_LENGTH or value[:4] == ITEM_TAG


def decode_as(element, vr: str, encoding, stored_as_un: bool) -> DataElement:
    """`element` (raw, or decoded but holding bytes) decoded as `vr`. A sequence stored as UN
    is read as implicit VR little endian; other sequences in the element's own encoding.
    Raises Undecodable."""
    stored = stored_bytes(element)
    if stored is None:
        raise Undecodable("its value is not bytes")
    value, length, implicit, little = stored
    tag = element.tag
    if vr == "SQ":
        if stored_as_un:
            implicit, little = True, True
        return DataElement(tag, "SQ", _sequence(value, length, implicit, little, encoding),
                           is_undefined_length=length == UNDEFINED_LENGTH)
    if length == UNDEFINED_LENGTH:
        raise Undecodable(f"undefined length, which a {vr} value cannot have")
    if plain_vr(getattr(element, "VR", None)) == "SQ":
        raise Undecodable(f"a sequence, which a {vr or 'value of this attribute'} cannot be")
    raw = RawDataElement(tag, vr or None, len(value), value, 0, implicit, little)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # pydicom warns where it would fall back to UN
        try:
            if PYDICOM_MAJOR >= 3:
                from pydicom.dataelem import convert_raw_data_element
                decoded = convert_raw_data_element(raw, encoding=encoding)
            else:
                from pydicom.dataelem import DataElement_from_raw
                decoded = DataElement_from_raw(raw, encoding)
        except Exception as error:
            raise Undecodable(_describe(error)) from None
    if plain_vr(decoded.VR) == "UN":
        raise Undecodable(f"not a valid {vr} value")
    return decoded


def _sequence(value: bytes, length: int, implicit: bool, little: bool, encoding) -> Sequence:
    try:
        check_items(value, implicit, little, length == UNDEFINED_LENGTH)
    except (StructureError, struct.error) as error:
        raise Undecodable(f"not a sequence: {error}") from None   # StructureError: positions and tags only
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            sequence = read_sequence(io.BytesIO(value), implicit, little, length, encoding)
        except Exception as error:
            raise Undecodable(f"not a sequence: {_describe(error)}") from None
    return sequence


def _describe(error: Exception) -> str:
    # the type only: pydicom's texts quote the value (errors.error_kind)
    return error_kind(error)
