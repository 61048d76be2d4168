"""Check that every declared length in a DICOM file fits: catches truncation and huge lengths.

pydicom reads a file cut off inside a defined-length sequence without a word,
and would try to honour a length of 4 GB in a 2 kB file. This scan walks the
element headers (seeking over values, so memory stays flat) and fails with
the first element whose length runs past its container or the file's end.
"""
from __future__ import annotations

import os
import struct

from pydicom.datadict import dictionary_VR

UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
PIXEL_DATA = 0x7FE00010
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
MAX_DEPTH = 64


class StructureError(Exception):
    pass


def check_file(path, implicit: bool, little: bool) -> None:
    """Raise StructureError if the file's element lengths do not fit; deflated files are not scanned."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        start = _body_offset(handle, size)
        handle.seek(start)
        _Scanner(handle, size, implicit, little).elements(size, 0)


def _body_offset(handle, size: int) -> int:
    """Skip preamble and the (always explicit little endian) file meta group."""
    handle.seek(128)
    if handle.read(4) != b"DICM":
        return 0
    position = 132
    while position + 8 <= size:
        handle.seek(position)
        header = handle.read(8)
        group = struct.unpack("<H", header[:2])[0]
        if group != 0x0002:
            break
        vr = header[4:6]
        if vr in _LONG_VRS:
            length = struct.unpack("<I", handle.read(4))[0]
            position += 12 + length
        else:
            position += 8 + struct.unpack("<H", header[6:8])[0]
    return position


class _Scanner:
    def __init__(self, handle, size: int, implicit: bool, little: bool):
        self.handle, self.size, self.implicit = handle, size, implicit
        self.order = "<" if little else ">"

    def _read(self, count: int) -> bytes:
        data = self.handle.read(count)
        if len(data) < count:
            raise StructureError(f"file ends inside an element header at byte {self.handle.tell()}")
        return data

    def _tag(self) -> int:
        group, element = struct.unpack(self.order + "HH", self._read(4))
        return (group << 16) | element

    def elements(self, end: int | None, depth: int) -> None:
        """Elements up to `end`, or (end None) up to the delimiter of an undefined-length item."""
        if depth > MAX_DEPTH:
            raise StructureError("sequences nested too deep")
        while True:
            here = self.handle.tell()
            if end is not None and here >= end:
                return
            if end is None and here >= self.size:
                raise StructureError("file ends before the end of an undefined-length item")
            tag = self._tag()
            if tag in (ITEM_END, SEQUENCE_END):
                self._read(4)
                if end is None:
                    return
                continue
            if self.implicit or tag >> 16 == 0xFFFE:
                vr, length = None, struct.unpack(self.order + "I", self._read(4))[0]
            else:
                vr = self._read(2)
                if vr in _LONG_VRS:
                    self._read(2)   # reserved
                    length = struct.unpack(self.order + "I", self._read(4))[0]
                else:
                    length = struct.unpack(self.order + "H", self._read(2))[0]
            self._value(tag, vr, length, end, depth)

    def _value(self, tag: int, vr, length: int, end, depth: int) -> None:
        if length == UNDEFINED:
            # Encapsulated pixel data holds fragments; any other undefined length is a sequence,
            # and a UN one holds implicit VR little endian data sets (CP-246).
            if vr == b"UN":
                saved = self.implicit, self.order
                self.implicit, self.order = True, "<"
                try:
                    self.items(None, depth + 1, holds_elements=True)
                finally:
                    self.implicit, self.order = saved
            else:
                self.items(None, depth + 1, holds_elements=tag != PIXEL_DATA)
            return
        start = self.handle.tell()
        limit = self.size if end is None else end
        if start + length > limit:
            raise StructureError(f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) declares {length} bytes "
                                 f"but only {max(limit - start, 0)} remain")
        if vr == b"SQ" or (vr is None and self._is_sequence(tag)):
            self.items(start + length, depth + 1, holds_elements=True)
        self.handle.seek(start + length)

    def _is_sequence(self, tag: int) -> bool:
        try:
            return dictionary_VR(tag) == "SQ"
        except KeyError:
            return False

    def items(self, end: int | None, depth: int, holds_elements: bool) -> None:
        while True:
            here = self.handle.tell()
            if end is not None and here >= end:
                return
            tag = self._tag()
            length = struct.unpack(self.order + "I", self._read(4))[0]
            if tag == SEQUENCE_END:
                return
            if tag != ITEM:
                raise StructureError(f"expected an item at byte {here}, found ({tag >> 16:04X},{tag & 0xFFFF:04X})")
            if length == UNDEFINED:
                if not holds_elements:
                    raise StructureError(f"a pixel data fragment at byte {here} has undefined length")
                self.elements(None, depth)
                continue
            start = self.handle.tell()
            limit = self.size if end is None else end
            if start + length > limit:
                raise StructureError(f"an item at byte {here} declares {length} bytes but only "
                                     f"{max(limit - start, 0)} remain")
            if holds_elements:
                self.elements(start + length, depth)
            self.handle.seek(start + length)
