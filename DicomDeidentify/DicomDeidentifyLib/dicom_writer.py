"""Write a data set the way pydicom does, faster for the elements that were never decoded.

The engine leaves every element it keeps as pydicom read it (a raw element:
tag, VR, length, value bytes). pydicom's writer spends most of its time on
per-element bookkeeping; a raw element in the encoding it was read in is written
as the very bytes it was read as (a slice of the input, `SourceLayout`), or as
its header and its value. Text with plain ASCII values, UIDs, single integers
and sequences of such elements are encoded here; anything else goes through
pydicom's own write_data_element. The bytes are identical to pydicom's dcmwrite:
the tests compare the two on every file of the corpus. The file is assembled as a
list of pieces, adjacent input slices merged, and written with one writev call;
long spans of a large input are copied file to file by the kernel.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.filewriter import (correct_ambiguous_vr, correct_ambiguous_vr_element, write_data_element,
                                write_file_meta_info)
from pydicom.uid import UID

from .errors import SafeError

PYDICOM_MAJOR = int(pydicom.__version__.split(".")[0])
UNDEFINED_LENGTH = 0xFFFFFFFF
LONG_LENGTH_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
DEFAULT_ENCODING = "iso8859"
# Text VRs whose plain ASCII str values encode the same in every character set: written here,
# without pydicom's per-element bookkeeping (the engine changes a few dozen of them per file).
PLAIN_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR",
                            "UT"})
MULTI_VALUED = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "SH", "TM", "UC", "UI"})
PLAIN_STRINGS = (str, UID)   # a UID is a str whose text is the value
INTEGER_FORMATS = {"US": "H", "SS": "h", "UL": "L", "SL": "l"}   # a single int value, packed as pydicom does
# File meta elements pydicom's writer adds or insists on (version, SOP class and instance,
# transfer syntax, implementation UID and name): with all of them set, the group is written
# here, else by pydicom's write_file_meta_info, which adds or refuses.
META_REQUIRED = (0x00020001, 0x00020002, 0x00020003, 0x00020010, 0x00020012, 0x00020013)
WRITEV_BATCH = 512   # buffers per writev call, well under any system's IOV_MAX
KERNEL_COPY_MIN = 1 << 20   # input spans at least this long are copied by the kernel (large inputs)


@dataclass
class SourceLayout:
    """Where the input file's top-level elements sit, so that what is unchanged is copied as bytes.

    `unread`: (tag, start, end) of elements kept without parsing; `parsed`: tag -> (the raw
    element as read, start, end), copied only while that very object is still in the data set.
    """
    buffer: memoryview
    implicit: bool
    little: bool
    unread: list = field(default_factory=list)
    parsed: dict = field(default_factory=dict)
    path: str | None = None   # set for a mapped (large) input: long spans are copied by the kernel


class FileRange:
    """A long span of the input file (pixel data of a many-frame object), copied file to file by
    the kernel instead of through this process's memory; `view` is the same bytes, mapped."""
    __slots__ = ("path", "start", "end", "view")

    def __init__(self, path: str, start: int, end: int, view):
        self.path, self.start, self.end, self.view = path, start, end, view

    def __len__(self) -> int:
        return self.end - self.start


class InputChanged(SafeError, OSError):
    """The input file ended before a span read from it earlier: it was changed during the run. Its
    text names no path or value (the file's result names the input)."""


def dataset_bytes(dataset: Dataset, layout: SourceLayout | None = None) -> bytes:
    """The whole file write_to writes (preamble, 'DICM', file meta, body) as one bytes object; for tests
    and small files. Raises what pydicom's writer raises for a value it cannot encode."""
    return b"".join(piece.view if isinstance(piece, FileRange) else piece for piece in file_pieces(dataset, layout))


def write_to(handle, dataset: Dataset, layout: SourceLayout | None = None) -> None:
    """Write straight to an open binary file, with no copy of the whole file in memory."""
    write_pieces(handle, file_pieces(dataset, layout))


def write_pieces(handle, pieces: list) -> None:
    """Write `pieces` (bytes or memoryviews, and FileRange spans of the input) in order to the open binary
    file `handle`, through its descriptor: buffers with os.writev in batches (handle.write without it),
    FileRange spans with os.copy_file_range where the system has it. Flushes `handle` first. Raises
    InputChanged if the input got shorter since it was read, OSError when writing fails."""
    handle.flush()
    buffers = []
    for piece in pieces:
        if isinstance(piece, FileRange):
            _write_buffers(handle, buffers)
            buffers = []
            _copy_range(handle, piece)
        elif len(piece):
            buffers.append(piece)
    _write_buffers(handle, buffers)


def _write_buffers(handle, pieces: list) -> None:
    if not hasattr(os, "writev"):   # Windows
        for piece in pieces:
            handle.write(piece)
        handle.flush()
        return
    descriptor = handle.fileno()
    while pieces:
        batch = pieces[:WRITEV_BATCH]
        written = os.writev(descriptor, batch)
        done = 0
        while done < len(batch) and written >= len(batch[done]):
            written -= len(batch[done])
            done += 1
        pieces = pieces[done:]
        if written:   # a short write: the rest of that piece goes next
            pieces[0] = memoryview(pieces[0])[written:]


def _copy_range(handle, piece: FileRange) -> None:
    copied = 0
    try:
        with open(piece.path, "rb") as source:
            while copied < len(piece):
                count = os.copy_file_range(source.fileno(), handle.fileno(), len(piece) - copied,
                                           piece.start + copied)
                if count == 0:
                    raise InputChanged("the input is shorter than when it was read: it changed during the run")
                copied += count
    except InputChanged:
        raise
    except (AttributeError, OSError):   # no copy_file_range here, or not between these file systems
        _write_buffers(handle, [piece.view[copied:]])


def file_pieces(dataset: Dataset, layout: SourceLayout | None = None) -> list:
    """Preamble, 'DICM', file meta and body, encoded as the file meta's transfer syntax says."""
    ts = UID(dataset.file_meta.TransferSyntaxUID)
    pieces = _Pieces(layout.buffer, layout.path) if layout is not None else _Pieces(None)
    pieces.add(bytes(dataset.preamble or b"\x00" * 128) + b"DICM" + file_meta_bytes(dataset.file_meta))
    _correct_ambiguous_vrs(dataset, ts.is_little_endian)
    _body(pieces, dataset, ts.is_implicit_VR, ts.is_little_endian, layout)
    return pieces.finish()


def file_meta_bytes(meta) -> bytes:
    """The file meta group (explicit VR little endian, group length first), as pydicom's
    write_file_meta_info(enforce_standard=True) writes it."""
    elements = {int(tag): meta.get_item(tag) for tag in meta.keys()}
    if any(not getattr(elements.get(tag), "value", None) for tag in META_REQUIRED):
        buffer = DicomBytesIO()
        buffer.is_little_endian, buffer.is_implicit_VR = True, False
        write_file_meta_info(buffer, meta, enforce_standard=True)   # adds what is missing, or refuses
        return buffer.getvalue()
    group = _Pieces(None)
    for tag in sorted(elements):
        if tag != 0x00020000:
            _element(group, tag, elements[tag], "<", False, DEFAULT_ENCODING)
    data = b"".join(group.finish())
    return struct.pack("<HH2sHI", 0x0002, 0x0000, b"UL", 4, len(data)) + data


class _Pieces:
    """The output as a list of buffers: slices of the input (adjacent ones merged), encoded
    elements, and runs of elements written by pydicom into one scratch buffer."""

    def __init__(self, source, path: str | None = None):
        self.source, self.path, self.parts = source, path, []
        self.start = self.end = -1   # the input slice being extended
        self.scratch = None

    def copy(self, start: int, end: int) -> None:
        if start == self.end:
            self.end = end
            return
        self._flush()
        self.start, self.end = start, end

    def add(self, data) -> None:
        self._flush()
        self.parts.append(data)

    def by_pydicom(self, element, encodings, little: bool, implicit: bool) -> None:
        if self.scratch is None:
            self._flush()
            self.scratch = DicomBytesIO()
            self.scratch.is_little_endian, self.scratch.is_implicit_VR = little, implicit
        write_data_element(self.scratch, element, encodings)

    def _flush(self) -> None:
        if self.end >= 0:
            view = self.source[self.start:self.end]
            if self.path is not None and self.end - self.start >= KERNEL_COPY_MIN:
                view = FileRange(self.path, self.start, self.end, view)
            self.parts.append(view)
            self.start = self.end = -1
        if self.scratch is not None:
            self.parts.append(self.scratch.getvalue())
            self.scratch = None

    def finish(self) -> list:
        self._flush()
        return self.parts


def _correct_ambiguous_vrs(dataset: Dataset, little_endian: bool) -> None:
    """Settle 'US or SS'-style VRs before writing, as pydicom's writer does, without decoding
    the other elements (pydicom 2.4's correct_ambiguous_vr decodes every one)."""
    if PYDICOM_MAJOR >= 3:
        correct_ambiguous_vr(dataset, little_endian)   # 3.x already leaves raw elements alone
        return
    for tag in list(dataset.keys()):
        vr = getattr(dataset.get_item(tag), "VR", None) or dictionary_vr_or_empty(tag)
        if vr == "SQ":
            for item in dataset[tag].value or []:
                _correct_ambiguous_vrs(item, little_endian)
        elif " or " in vr:
            correct_ambiguous_vr_element(dataset[tag], dataset, little_endian)


def dictionary_vr_or_empty(tag) -> str:
    """The dictionary VR of a tag, '' for one no dictionary knows (private, unknown)."""
    try:
        return dictionary_VR(tag)
    except KeyError:
        return ""


def _plain_text(tag: int, element, order: str, implicit: bool):
    """The encoded element (header and value) if it is a decoded text element whose values are
    plain ASCII strings, bytes under OB or one integer, encoded as pydicom would (text values
    joined by backslashes, padded to even length: UIs and bytes with NUL, others with a space);
    else None."""
    vr = element.VR
    if getattr(element, "is_undefined_length", False):
        return None
    value = element.value
    if vr == "OB" and type(value) is bytes:
        data = value
    elif vr in INTEGER_FORMATS and type(value) is int:
        try:
            data = struct.pack(order + INTEGER_FORMATS[vr], value)
        except struct.error:
            return None   # out of range for the VR: pydicom's writer says so
    elif vr not in PLAIN_TEXT_VRS:
        return None
    else:
        if value is None or value == "":
            values = []
        elif type(value) in PLAIN_STRINGS or (vr == "PN" and type(value).__name__ == "PersonName"):
            values = [str(value)]
        elif (vr in MULTI_VALUED and type(value).__name__ == "MultiValue"
              and all(type(v) in PLAIN_STRINGS for v in value)):
            values = [str(v) for v in value]
        else:
            return None
        text = "\\".join(values)
        if not text.isascii():
            return None
        data = text.encode("ascii")
    if len(data) % 2:
        data += b"\x00" if vr in ("UI", "OB") else b" "
    return _header(tag, vr, len(data), order, implicit) + data


def plain_text_value(vr: str, value):
    """The value bytes _plain_text writes for a value the engine makes (None, a str, or a list
    of str for a multi-valued VR; its dummies, pseudonyms and new UIDs), encoded once, so that the
    element can be set as bytes (a raw element) instead of a DataElement pydicom converts and the
    writer encodes again. None where _plain_text would not be the writer (not ASCII, a VR it does
    not encode, backslashes in a VR of one value): the caller sets a DataElement then."""
    if vr not in PLAIN_TEXT_VRS:
        return None
    if value is None or value == "":
        text = ""
    elif type(value) in PLAIN_STRINGS:
        text = str(value)
        if "\\" in text and vr not in MULTI_VALUED:
            return None   # pydicom makes several values of it (a PN): its own writer decides
    elif type(value) is list and vr in MULTI_VALUED and all(type(v) in PLAIN_STRINGS for v in value):
        text = "\\".join(str(v) for v in value)
    else:
        return None
    if not text.isascii():
        return None
    data = text.encode("ascii")
    if len(data) % 2:
        data += b"\x00" if vr == "UI" else b" "
    return data


def _header(tag: int, vr: str, length: int, order: str, implicit: bool) -> bytes:
    if implicit:
        return struct.pack(order + "HHI", tag >> 16, tag & 0xFFFF, length)
    if vr in LONG_LENGTH_VRS:
        return struct.pack(order + "HH2sHI", tag >> 16, tag & 0xFFFF, vr.encode(), 0, length)
    if length > 0xFFFF:
        raise ValueError(f"({tag >> 16:04X},{tag & 0xFFFF:04X}): {length} bytes do not fit a {vr} value")
    return struct.pack(order + "HH2sH", tag >> 16, tag & 0xFFFF, vr.encode(), length)


def _element(pieces: _Pieces, tag, element, order: str, implicit: bool, encodings) -> None:
    """One element that is not an unchanged input slice."""
    if _raw_as_read(element, implicit):
        value = element.value or b""
        header = _header(tag, element.VR, len(value), order, implicit)
        if len(value) < 4096:
            pieces.add(header + value)
        else:   # a large value is passed on as it is, not copied
            pieces.add(header)
            pieces.add(value)
        return
    encoded = _decoded_bytes(tag, element, order, implicit)
    if encoded is not None:
        pieces.add(encoded)
    else:
        pieces.by_pydicom(element, encodings, order == "<", implicit)


def _decoded_bytes(tag: int, element, order: str, implicit: bool):
    """A decoded element encoded here (a sequence, or text/UID/integer), or None for pydicom's writer."""
    if element.VR == "SQ":
        return _sequence(tag, element, order, implicit)
    return _plain_text(tag, element, order, implicit)


def _raw_as_read(element, implicit: bool) -> bool:
    """A raw element whose header can be rebuilt from its VR and its value's length."""
    return (getattr(element, "is_raw", False) and element.length != UNDEFINED_LENGTH and element.VR != "UN"
            and (implicit or (element.VR and len(element.VR) == 2))
            and (implicit or element.VR in LONG_LENGTH_VRS or len(element.value or b"") <= 0xFFFF))


_ITEM, _ITEM_END, _SEQUENCE_END = (0xFFFE, 0xE000), (0xFFFE, 0xE00D), (0xFFFE, 0xE0DD)


def _sequence(tag: int, element, order: str, implicit: bool):
    """A decoded sequence whose items hold only elements encoded here (raw ones, plain text,
    single integers, nested such sequences), encoded as pydicom would: items of defined length
    unless read with delimiters, the sequence likewise; None for anything else."""
    if getattr(element, "is_raw", False):
        return None
    item_header = struct.Struct(order + "HHI")
    parts = []
    for item in element.value or []:
        body = _item_body(item, order, implicit)
        if body is None:
            return None
        if getattr(item, "is_undefined_length_sequence_item", False):
            parts += [item_header.pack(*_ITEM, UNDEFINED_LENGTH), body, item_header.pack(*_ITEM_END, 0)]
        else:
            parts += [item_header.pack(*_ITEM, len(body)), body]
    value = b"".join(parts)
    if element.is_undefined_length:
        return (_header(tag, "SQ", UNDEFINED_LENGTH, order, implicit) + value
                + item_header.pack(*_SEQUENCE_END, 0))
    return _header(tag, "SQ", len(value), order, implicit) + value


def _item_body(item: Dataset, order: str, implicit: bool):
    parts = []
    for tag, element in sorted((int(tag), element) for tag, element in item.items()):
        if tag & 0xFFFF == 0 and tag >> 16 > 6:
            continue   # retired group lengths are not written, as pydicom does
        if _raw_as_read(element, implicit):
            value = element.value or b""
            parts += [_header(tag, element.VR, len(value), order, implicit), value]
            continue
        if getattr(element, "is_raw", False):
            return None
        encoded = _decoded_bytes(tag, element, order, implicit)
        if encoded is None:
            return None
        parts.append(encoded)
    return b"".join(parts)


def _decoded_or_raw(dataset: Dataset, tag, raw):
    try:
        return dataset[tag]
    except Exception:   # a value that does not decode as its dictionary VR stays UN, as read
        return raw


def _body(pieces: _Pieces, dataset: Dataset, implicit: bool, little: bool, layout: SourceLayout | None) -> None:
    encodings = dataset.get("SpecificCharacterSet", DEFAULT_ENCODING)
    order = "<" if little else ">"
    unread, originals = [], {}
    if layout is not None:
        same_encoding = (layout.implicit, layout.little) == (implicit, little)
        if layout.unread and not same_encoding:
            raise ValueError("elements kept unparsed cannot be written in another encoding")
        unread = list(reversed(layout.unread))   # a stack: smallest tag last
        originals = layout.parsed if same_encoding else {}
    # items() gives the elements as stored (raw ones undecoded); tags as plain ints, since
    # pydicom's Tag compares in Python
    for tag, element in sorted((int(tag), element) for tag, element in dataset.items()):
        while unread and unread[-1][0] < tag:
            _tag, start, end = unread.pop()
            pieces.copy(start, end)
        if tag & 0xFFFF == 0 and tag >> 16 > 6:
            continue   # retired group lengths are not written (PS3.5 7.2), as pydicom does
        original = originals.get(tag)
        if element.VR == "UN" and getattr(element, "is_raw", False):
            # Decoding gives an element read as UN its dictionary VR (pydicom's writer does the same
            # after any look at the value): a public attribute is written with its proper VR.
            _element(pieces, tag, _decoded_or_raw(dataset, tag, element), order, implicit, encodings)
        elif original is not None and original[0] is element:
            pieces.copy(original[1], original[2])   # never decoded: the bytes it was read as
        else:
            _element(pieces, tag, element, order, implicit, encodings)
    while unread:
        _tag, start, end = unread.pop()
        pieces.copy(start, end)
