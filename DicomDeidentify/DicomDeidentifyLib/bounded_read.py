"""Reading an input without letting it stall or exhaust the run: regular files only, sizes bounded.

An input tree may hold anything: a FIFO (opening it for reading blocks until a writer comes),
a link to /dev/zero (endless), a sparse file of a terabyte, a deflated body that inflates
without bound, or "DICM" followed by millions of zero bytes (pydicom reads each 8 zero bytes
as one element, in time and memory far out of proportion). `check_input` decides about such
a file before anything parses it, in time linear in its size and memory bounded by the limits:
it opens the file without blocking (O_NONBLOCK), checks that it is a regular file (fstat), its
size, the inflated size of a deflated body (inflated in bounded chunks), and that the element
tags of each data set ascend, as PS3.5 7.1 requires, allowing a few exceptions for real files
that break the rule.
"""
from __future__ import annotations

import mmap
import os
import stat
import struct
import zlib
from dataclasses import dataclass

from .structure_check import OUT_OF_ORDER_ALLOWED, is_sequence_tag, meta_layout, meta_transfer_syntax

MB = 1024 * 1024
DEFAULT_MAX_FILE_MB = 16 * 1024     # well above the largest real objects (whole-slide images, 4D ultrasound)
DEFAULT_MAX_INFLATED_MB = 1024      # a deflated body is inflated in memory by pydicom: keep it bounded
DEFLATED = "1.2.840.10008.1.2.1.99"
IMPLICIT_LITTLE, EXPLICIT_BIG = "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"
INFLATE_CHUNK = 1 << 20
# Below this size the checks of the body are skipped: pydicom's cost for any content is small
# (256 kB of 8-byte elements: ~0.3 s, ~10 MB), and real small files need no second header walk.
ORDER_SCAN_FROM_BYTES = 256 * 1024
MAX_DEPTH = 64
_RAW_START_GROUPS = {0x0002, 0x0004, 0x0008}   # as dicom_io: what a data set without preamble starts with
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END, PIXEL_DATA = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD, 0x7FE00010


@dataclass(frozen=True)
class ReadLimits:
    """What one input may cost. Sizes in bytes; a file over a limit fails with a reason."""
    max_file_bytes: int = DEFAULT_MAX_FILE_MB * MB
    max_inflated_bytes: int = DEFAULT_MAX_INFLATED_MB * MB

    @classmethod
    def from_megabytes(cls, max_file_mb: float | None = None, max_inflated_mb: float | None = None) -> "ReadLimits":
        """Limits in megabytes (MB = 2**20 bytes); None: the default. ValueError for 0, a negative size,
        nan or inf (never read as the default: a 0 that meant "no limit" would be a 16 GB one)."""
        def size(value, default, name):
            if value is None:
                return int(default * MB)
            if not (isinstance(value, (int, float)) and 0 < value < float("inf")):
                raise ValueError(f"{name} must be a number of megabytes above 0, not {value!r}")
            return int(value * MB)
        return cls(size(max_file_mb, DEFAULT_MAX_FILE_MB, "max_file_mb"),
                   size(max_inflated_mb, DEFAULT_MAX_INFLATED_MB, "max_inflated_mb"))


class InputRefused(Exception):
    """The input is not read. `not_regular`: a FIFO, device, socket or folder (skipped, not failed)."""

    def __init__(self, reason: str, not_regular: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.not_regular = not_regular


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words ('a FIFO', 'a character device', ...)."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a link")):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path) -> int:
    """A read-only descriptor of `path`, which must be a regular file. Opened with O_NONBLOCK, so
    that a FIFO swapped in after the folder walk cannot block; fstat then refuses it unread.
    Raises InputRefused (not regular) or OSError (cannot be opened)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    handle = os.open(path, flags)
    try:
        mode = os.fstat(handle).st_mode
        if not stat.S_ISREG(mode):
            raise InputRefused(f"not a regular file ({kind_of(mode)}): not read", not_regular=True)
    except BaseException:
        os.close(handle)
        raise
    return handle


def read_regular(path) -> bytes:
    """The bytes of a regular file, at most its size when opened (a file that grows is not followed)."""
    handle = open_regular(path)
    with os.fdopen(handle, "rb") as stream:
        return stream.read(os.fstat(handle).st_size)


def check_input(path, limits: ReadLimits = ReadLimits(), defer_order_scan: bool = False) -> bool:
    """Raise InputRefused if `path` must not be parsed: not a regular file, larger than the limit,
    a deflated body inflating past the limit, element tags out of order (a body of zeros).
    OSError if it cannot be opened. Linear in the file's size; memory bounded by the limits.

    With defer_order_scan, the tag order of a body that is not deflated is left to the reader and
    True returned when that scan is owed: dicom_io.read_source checks the order in its own walk
    of the headers, and runs scan_tag_order before anything else parses the file."""
    handle = open_regular(path)
    try:
        size = os.fstat(handle).st_size
        if size > limits.max_file_bytes:
            raise InputRefused(f"too large: {size / MB:.0f} MB, the limit is {limits.max_file_bytes / MB:.0f} MB "
                               "(--max-file-size)")
        if size == 0:
            return False
        scan_order = size >= ORDER_SCAN_FROM_BYTES
        with mmap.mmap(handle, 0, access=mmap.ACCESS_READ) as mapped:
            if defer_order_scan and meta_transfer_syntax(mapped) != DEFLATED:
                return scan_order
            _check_body(mapped, limits, scan_order)
        return False
    finally:
        os.close(handle)


def scan_tag_order(buffer) -> None:
    """The tag order scan of check_input (whatever the size) on the bytes of a file that is not
    deflated (bytes or mmap); raises InputRefused if no encoding reads the tags in order."""
    _check_body(buffer, ReadLimits(), scan_order=True)


def _check_body(buffer, limits: ReadLimits, scan_order: bool) -> None:
    """A deflated body must inflate within the limit (whatever the file's size: deflate packs up
    to ~1000:1); the tags of a large body must ascend (what pydicom makes of a small one stays small)."""
    if bytes(buffer[128:132]) == b"DICM":
        start, ts = meta_layout(buffer)
        if ts == DEFLATED:
            buffer, start = inflate_bounded(buffer, start, limits.max_inflated_bytes), 0
            if buffer is None:
                return   # not a valid deflate stream: pydicom's inflate says why
            scan_order = scan_order or len(buffer) >= ORDER_SCAN_FROM_BYTES
        if not scan_order:
            return
        encodings = [(ts == IMPLICIT_LITTLE, ts != EXPLICIT_BIG)]
    else:
        if not scan_order or len(buffer) < 8 or not ({int.from_bytes(buffer[:2], "little"), int.from_bytes(buffer[:2], "big")}
                                   & _RAW_START_GROUPS):
            return   # dicom_io says it is not DICOM, at once
        start, encodings = 0, [(True, True)]
    # A body encoded other than its transfer syntax says is read by pydicom as it really is:
    # the verdict "out of order" holds only if no encoding reads the tags in order.
    encodings += [e for e in ((True, True), (False, True), (False, False)) if e not in encodings]
    where = None
    for implicit, little in encodings:
        where = _disorder(buffer, start, implicit, little)
        if where is None:
            return
    raise InputRefused(f"damaged: the element tags from byte {where} are out of order (PS3.5 7.1), "
                       "not a DICOM data set")


def inflate_bounded(data, start: int, limit: int):
    """The inflated bytes of the raw deflate stream (PS3.5 A.5) from `start` in `data` (bytes or
    mmap), inflated in bounded chunks; None if the stream is invalid. Raises InputRefused once
    more than `limit` bytes come out."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    out = bytearray()
    try:
        for offset in range(start, len(data), INFLATE_CHUNK):
            pending = data[offset:offset + INFLATE_CHUNK]   # a copy: no buffer export keeps the mmap open
            while pending and not inflater.eof:
                out += inflater.decompress(pending, limit + 1 - len(out))   # max_length >= 1: never unbounded
                if len(out) > limit:
                    raise InputRefused(f"the deflated body inflates to more than {limit / MB:.0f} MB "
                                       "(--max-inflated-size)")
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error:
        return None
    return bytes(out)


class _Stop(Exception):
    """The scan cannot go on in this encoding (a length past the end, a missing item): the
    structure check and pydicom decide about such a file, not this scan."""


class _Disordered(Exception):
    def __init__(self, position: int):
        super().__init__(position)
        self.position = position


def _disorder(buffer, start: int, implicit: bool, little: bool):
    """The byte where a data set's tags stop ascending (beyond the few allowed), or None."""
    scan = _OrderScan(buffer, implicit, little)
    try:
        scan.data_set(start, len(buffer), 0)
    except _Disordered as error:
        return error.position
    except (_Stop, struct.error, RecursionError):
        return None
    return None


_STRUCTS = {order: {fmt: struct.Struct(order + fmt) for fmt in ("HH2sH", "HHI", "I")} for order in "<>"}


class _OrderScan:
    """Walks element headers (as structure_check does) and only checks the order of tags. One
    precompiled unpack per header: this runs over every header of every large input."""

    def __init__(self, buffer, implicit: bool, little: bool):
        self.buffer, self.size, self.implicit = buffer, len(buffer), implicit
        self.order = "<" if little else ">"

    def data_set(self, position: int, end, depth: int) -> int:
        """Elements up to `end`, or (end None) to an item delimiter; returns where it stopped."""
        if depth > MAX_DEPTH:
            raise _Stop()
        buffer, size, implicit = self.buffer, self.size, self.implicit
        structs = _STRUCTS[self.order]
        read_header = structs["HHI" if implicit else "HH2sH"].unpack_from
        read_u32 = structs["I"].unpack_from
        limit = size if end is None else end
        previous, out_of_order = -1, 0
        while True:
            if position >= limit:
                if end is None:
                    raise _Stop()
                return position
            if position + 8 > size:
                raise _Stop()
            header = position
            if implicit:
                group, element, length = read_header(buffer, position)
                vr, position = None, position + 8
            else:
                group, element, vr, length = read_header(buffer, position)
                if group == 0xFFFE:
                    vr, length, position = None, read_u32(buffer, position + 4)[0], position + 8
                elif vr in _LONG_VRS:
                    if position + 12 > size:
                        raise _Stop()
                    length, position = read_u32(buffer, position + 8)[0], position + 12
                else:
                    position += 8
            tag = (group << 16) | element
            if tag == ITEM_END or tag == SEQUENCE_END:
                if end is None and tag == ITEM_END:
                    return header + 8
                raise _Stop()
            if tag <= previous:
                out_of_order += 1
                if out_of_order > OUT_OF_ORDER_ALLOWED:
                    raise _Disordered(header)
            previous = tag
            if length == UNDEFINED:
                position = self._undefined(tag, vr, position, depth)
            else:
                if position + length > limit:
                    raise _Stop()
                if vr == b"SQ" or (vr is None and is_sequence_tag(tag)):
                    self.items(position, position + length, depth + 1)
                position += length

    def _undefined(self, tag: int, vr, position: int, depth: int) -> int:
        if vr == b"UN":   # CP-246: implicit VR little endian inside
            saved = self.implicit, self.order
            self.implicit, self.order = True, "<"
            try:
                return self.items(position, None, depth + 1)
            finally:
                self.implicit, self.order = saved
        return self.items(position, None, depth + 1, holds_elements=tag != PIXEL_DATA)

    def items(self, position: int, end, depth: int, holds_elements: bool = True) -> int:
        while True:
            if end is not None and position >= end:
                return position
            if position + 8 > self.size:
                raise _Stop()
            group, element, length = struct.unpack_from(self.order + "HHI", self.buffer, position)
            tag, position = (group << 16) | element, position + 8
            if tag == SEQUENCE_END:
                return position
            if tag != ITEM:
                raise _Stop()
            if length == UNDEFINED:
                if not holds_elements:
                    raise _Stop()
                position = self.data_set(position, None, depth)
                continue
            if position + length > (self.size if end is None else end):
                raise _Stop()
            if holds_elements:
                self.data_set(position, position + length, depth)
            position += length
