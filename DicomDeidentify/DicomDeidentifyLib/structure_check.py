"""Check that every declared length in a DICOM file fits: catches truncation and huge lengths.

pydicom reads a file cut off inside a defined-length sequence without a word,
and would try to honour a length of 4 GB in a 2 kB file. This scan walks the
element headers of a buffer (the file's bytes, or a memory map of a large
file, so memory stays flat), jumping over values, and fails with the first
element whose length runs past its container or the end of the file.
"""
from __future__ import annotations

import mmap
import struct
from functools import lru_cache


UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
PIXEL_DATA = 0x7FE00010
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
_SHORT_VRS = {b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT", b"PN", b"SH",
              b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US"}
MAX_DEPTH = 64
OUT_OF_ORDER_ALLOWED = 8   # per data set: real files sometimes have a tag or two out of place (PS3.5 7.1)


class StructureError(Exception):
    """A declared length or structure of the file cannot be right (truncated, overlapping, an element
    past the end); the message names where (a byte position, an element's tag) and what is wrong,
    never a value."""
    pass


class TagsOutOfOrder(StructureError):
    """The tags of a data set do not ascend (beyond the few allowed) in the encoding scanned."""

    def __init__(self, position: int):
        super().__init__(f"the element tags from byte {position} are out of order (PS3.5 7.1)")
        self.position = position


def check_file(path, implicit: bool, little: bool) -> list:
    """check_buffer on a file, through a memory map."""
    with open(path, "rb") as handle:
        if handle.seek(0, 2) == 0:
            raise StructureError("empty file")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
            return check_buffer(buffer, implicit, little)


def check_buffer(buffer, implicit: bool, little: bool, check_order: bool = False, start: int | None = None) -> list:
    """Raise StructureError if the element lengths in `buffer` (a whole file) do not fit, and
    (check_order) TagsOutOfOrder if the tags of a data set do not ascend (bounded_read's rule,
    checked in the same walk). Returns the top-level elements as tuples (tag, vr, start, end,
    length): vr is the VR text (None when implicit), [start, end) holds header and value, length
    is the declared value length (UNDEFINED for sequences and encapsulated pixel data). A file
    with no element after its file meta (a meta-only file, or one cut right after the meta) is
    no instance: raises. `start`: body_offset(buffer), when the caller has it (meta_layout)."""
    scanner = _Scanner(buffer, implicit, little, check_order)
    scanner.elements(body_offset(buffer) if start is None else start, len(buffer), 0)
    if not any(span[0] & 0xFFFF for span in scanner.top_level):   # group lengths are no data
        raise StructureError("no data elements after the file meta information")
    return scanner.top_level


def check_items(value: bytes, implicit: bool, little: bool, undefined: bool) -> None:
    """Raise StructureError unless `value` is exactly the items of a sequence (and, for an
    undefined length, its sequence delimiter), each element's length fitting its item."""
    scanner = _Scanner(value, implicit, little)
    end = scanner.items(0, None if undefined else len(value), 1, holds_elements=True)
    if end != len(value):
        raise StructureError(f"{len(value) - end} bytes after the end of the sequence")


def meta_transfer_syntax(buffer) -> str:
    """The Transfer Syntax UID of the file meta, read without pydicom ('' if none)."""
    return meta_layout(buffer)[1]


def body_offset(buffer) -> int:
    """Skip preamble and the (always explicit little endian) file meta group."""
    return meta_layout(buffer)[0]


def meta_layout(buffer) -> tuple:
    """(body_offset, meta_transfer_syntax) of a file's bytes (bytes or mmap), from one walk of the
    file meta group (PS3.10 7.1: explicit VR little endian, group 0002): where the data set starts
    (0 without the 'DICM' prefix) and the Transfer Syntax UID ('' if none). The readers need both
    for every file: one walk instead of one per question."""
    if bytes(buffer[128:132]) != b"DICM":
        return 0, ""
    position, size, syntax = 132, len(buffer), None
    while position + 8 <= size:
        group, element = struct.unpack_from("<HH", buffer, position)
        if group != 0x0002:
            break
        if bytes(buffer[position + 4:position + 6]) in _LONG_VRS:
            if position + 12 > size:
                break
            length, start = struct.unpack_from("<I", buffer, position + 8)[0], position + 12
        else:
            length, start = struct.unpack_from("<H", buffer, position + 6)[0], position + 8
        if element == 0x0010 and syntax is None:
            syntax = bytes(buffer[start:start + length]).decode("ascii", "replace").strip("\x00 ")
        position = start + length
    return position, syntax or ""


# One unpack reads a whole 8-byte element header: (group, element, VR, 16-bit length) when
# explicit, (group, element, 32-bit length) when implicit.
_STRUCTS = {order: {fmt: struct.Struct(order + fmt) for fmt in ("HH", "H", "I", "HH2sH", "HHI")} for order in "<>"}
_VR_TEXTS: dict = {}   # VR bytes -> text, filled as VRs are met


def _vr_text(vr: bytes) -> str:
    text = _VR_TEXTS.get(vr)
    if text is None:
        text = _VR_TEXTS[vr] = vr.decode("ascii", "replace")
    return text


@lru_cache(maxsize=65536)
def is_sequence_tag(tag: int) -> bool:
    """Whether the data dictionary knows `tag` as a sequence (how an implicit VR reader finds one)."""
    try:
        from pydicom.datadict import dictionary_VR   # here, not at the top: --help must not load pydicom
        return dictionary_VR(tag) == "SQ"
    except KeyError:
        return False


class _Scanner:
    def __init__(self, buffer, implicit: bool, little: bool, check_order: bool = False):
        self.buffer, self.size, self.implicit = buffer, len(buffer), implicit
        self.order = "<" if little else ">"
        self.check_order = check_order
        self.top_level: list = []   # a (tag, vr, start, end, length) for each element at depth 0

    def _unpack(self, fmt: str, position: int) -> tuple:
        # precompiled: this runs for every element header of every file
        try:
            return _STRUCTS[self.order][fmt].unpack_from(self.buffer, position)
        except struct.error:
            raise StructureError(f"file ends inside an element header at byte {position}") from None

    def elements(self, position: int, end: int | None, depth: int) -> int:
        """Elements from `position` up to `end`, or (end None) to an item delimiter. Returns where it stopped.
        The loop runs for every element header of every file: locals, one precompiled unpack per
        header, and the common case (a defined-length value that is not a sequence) handled inline."""
        if depth > MAX_DEPTH:
            raise StructureError("sequences nested too deep")
        buffer, size, implicit = self.buffer, self.size, self.implicit
        structs = _STRUCTS[self.order]
        read_u32 = structs["I"].unpack_from
        read_header = structs["HHI" if implicit else "HH2sH"].unpack_from
        top_level = self.top_level if depth == 0 else None
        vr_texts = _VR_TEXTS
        limit = size if end is None else end
        header = position
        check_order, previous, out_of_order = self.check_order, -1, 0
        try:
            while True:
                if end is not None and position >= end:
                    return position
                if end is None and position >= size:
                    raise StructureError("file ends before the end of an undefined-length item")
                header = position
                if implicit:
                    group, element, length = read_header(buffer, position)
                    vr, position = None, position + 8
                else:
                    group, element, vr, length = read_header(buffer, position)
                    if group == 0xFFFE:   # item and delimiter tags carry no VR, and a 32-bit length
                        vr, length, position = None, read_u32(buffer, position + 4)[0], position + 8
                    elif vr in _LONG_VRS:
                        length, position = read_u32(buffer, position + 8)[0], position + 12
                    elif vr in _SHORT_VRS or (65 <= vr[0] <= 90 and 65 <= vr[1] <= 90):
                        position += 8
                    else:
                        # pydicom reads such an element as implicit VR (a 32-bit length), this scan
                        # as explicit: the two readings of the file would differ.
                        raise StructureError(f"element ({group:04X},{element:04X}) at byte {header} has VR bytes "
                                             f"0x{vr.hex().upper()}, which are not a VR: its length cannot be "
                                             "read unambiguously")
                tag = (group << 16) | element
                if tag == ITEM_END or tag == SEQUENCE_END:
                    position = header + 8
                    if end is None:
                        return position
                    continue
                if check_order:
                    if tag <= previous:
                        out_of_order += 1
                        if out_of_order > OUT_OF_ORDER_ALLOWED:
                            raise TagsOutOfOrder(header)
                    previous = tag
                if vr is not None and length != UNDEFINED and vr != b"SQ":
                    if position + length > limit:
                        raise StructureError(f"element ({group:04X},{element:04X}) declares {length} bytes "
                                             f"but only {max(limit - position, 0)} remain")
                    position += length
                else:
                    position = self._value(tag, vr, length, position, end, depth)
                if top_level is not None:
                    text = None if vr is None else (vr_texts.get(vr) or _vr_text(vr))
                    top_level.append((tag, text, header, position, length))
        except struct.error:
            raise StructureError(f"file ends inside an element header at byte {header}") from None

    def _value(self, tag: int, vr, length: int, position: int, end, depth: int) -> int:
        if length == UNDEFINED:
            # Encapsulated pixel data holds fragments; any other undefined length is a sequence,
            # and a UN one holds implicit VR little endian data sets (CP-246).
            if vr == b"UN":
                saved = self.implicit, self.order
                self.implicit, self.order = True, "<"
                try:
                    return self.items(position, None, depth + 1, holds_elements=True)
                finally:
                    self.implicit, self.order = saved
            return self.items(position, None, depth + 1, holds_elements=tag != PIXEL_DATA)
        limit = self.size if end is None else end
        if position + length > limit:
            raise StructureError(f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) declares {length} bytes "
                                 f"but only {max(limit - position, 0)} remain")
        if vr == b"SQ" or (vr is None and self._is_sequence(tag)):
            self.items(position, position + length, depth + 1, holds_elements=True)
        return position + length

    @staticmethod
    def _is_sequence(tag: int) -> bool:
        return is_sequence_tag(tag)

    def items(self, position: int, end: int | None, depth: int, holds_elements: bool) -> int:
        while True:
            if end is not None and position >= end:
                return position
            group, element = self._unpack("HH", position)
            tag = (group << 16) | element
            length = self._unpack("I", position + 4)[0]
            here, position = position, position + 8
            if tag == SEQUENCE_END:
                return position
            if tag != ITEM:
                raise StructureError(f"expected an item at byte {here}, found ({group:04X},{element:04X})")
            if length == UNDEFINED:
                if not holds_elements:
                    raise StructureError(f"a pixel data fragment at byte {here} has undefined length")
                position = self.elements(position, None, depth)
                continue
            limit = self.size if end is None else end
            if position + length > limit:
                raise StructureError(f"an item at byte {here} declares {length} bytes but only "
                                     f"{max(limit - position, 0)} remain")
            if holds_elements:
                self.elements(position, position + length, depth)
            position += length
