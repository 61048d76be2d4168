"""Units of work: the input files grouped by series (Series Instance UID), for the local pool and the
cluster alike (issue 16, issue 19).

A unit holds files of one series only, in the order the walk gave them, at most `max_files` of them
(a lost worker costs at most one unit; results stay small), so one worker's per-series caches stay
useful and work and results cross between processes in batches. A file whose series cannot be read
cheaply (not DICOM, no preamble, deflated, no Series Instance UID, unreadable) is a unit of its own:
deidentify_file then fails or succeeds on it exactly as it would have alone.

Memory stays flat for any archive: the series are read as units are asked for (a generator), only
the header up to (0020,000E) is read (values of other elements are skipped, not loaded), and at most
OPEN_SERIES series are collected at once. A series whose files are spread far apart in the walk may
then come in several units; each still holds one series' files, in order.
"""
from __future__ import annotations

import collections
import math
from pathlib import Path
from typing import Callable, Iterable, Iterator

import struct

from .structure_check import _LONG_VRS, UNDEFINED, body_offset, meta_transfer_syntax

MAX_FILES_PER_UNIT = 50   # a lost worker costs at most this many files' work
UNITS_PER_WORKER = 16     # enough units that the last ones leave no worker idle for long
OPEN_SERIES = 64          # series collected at once: bounds the planner's memory

_SERIES_INSTANCE_UID = 0x0020000E
_DEFLATED = "1.2.840.10008.1.2.1.99"


def unit_size(files: int, workers: int, largest: int = MAX_FILES_PER_UNIT) -> int:
    """Files per unit for `files` files on `workers` workers: UNITS_PER_WORKER units per worker,
    1 to `largest` files each."""
    return min(largest, max(1, math.ceil(files / (max(1, workers) * UNITS_PER_WORKER))))


def series_uid(path) -> str | None:
    """The Series Instance UID (0020,000E) of the DICOM file at `path`, or None if it cannot be read
    cheaply: no 'DICM' preamble, a deflated transfer syntax (reading it would inflate the file), no
    such element, or any error reading. Reads the first HEAD_BYTES and walks the top-level element
    headers, jumping over values (structure_check's scan); an undefined length or an element past
    those bytes before (0020,000E) falls back to pydicom's read_partial with specific_tags and a stop
    after (0020,000E) (still skipping other values). Nothing is kept."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
            syntax = meta_transfer_syntax(head)
            if not syntax or syntax == _DEFLATED:
                return None
            found = _scan(head, syntax)
            if found is _UNSURE:
                found = _read_partial(handle)
            uid = found.decode("ascii", "replace").strip("\x00 ") if isinstance(found, bytes) else str(found or "")
            return uid.strip() or None
    except Exception:   # anything unreadable: its own unit, the pipeline reports on it
        return None


HEAD_BYTES = 16384
_UNSURE = object()


def _scan(head: bytes, syntax: str):
    """The raw value of (0020,000E) at the top level of `head`, None if the data set has none,
    _UNSURE if the scan cannot tell (an undefined length, or the element lies past `head`).
    One struct call an element (tag, VR and short length at once): the ~150 elements before the
    Series Instance UID of a CT are most of the planner's time (issue 19)."""
    implicit = syntax == "1.2.840.10008.1.2"
    big = syntax == "1.2.840.10008.1.2.2"
    element_header = _IMPLICIT if implicit else _EXPLICIT_BIG if big else _EXPLICIT
    long_length = _LONG_BIG if big else _LONG
    unpack, long_vrs = element_header.unpack_from, _LONG_VR_TEXTS
    position, size = body_offset(head), len(head)
    while position + 8 <= size:
        if implicit:
            group, element, length = unpack(head, position)
            start = position + 8
        else:
            group, element, vr, length = unpack(head, position)
            if vr in long_vrs:
                if position + 12 > size:
                    return _UNSURE
                length, start = long_length.unpack_from(head, position + 8)[0], position + 12
            else:
                start = position + 8
        tag = group << 16 | element
        if tag > _SERIES_INSTANCE_UID:
            return None
        if length == UNDEFINED:
            return _UNSURE
        if tag == _SERIES_INSTANCE_UID:
            return head[start:start + length] if start + length <= size else _UNSURE
        position = start + length
    return _UNSURE


_EXPLICIT, _EXPLICIT_BIG = struct.Struct("<HH2sH"), struct.Struct(">HH2sH")   # group, element, VR, short length
_IMPLICIT = struct.Struct("<HHI")   # group, element, length (implicit VR is always little endian)
_LONG, _LONG_BIG = struct.Struct("<I"), struct.Struct(">I")
_LONG_VR_TEXTS = frozenset(_LONG_VRS)


def _read_partial(handle):
    from pydicom.filereader import read_partial
    handle.seek(0)
    dataset = read_partial(handle, stop_when=lambda tag, vr, length: tag > _SERIES_INSTANCE_UID,
                           specific_tags=[_SERIES_INSTANCE_UID])
    element = dataset.get(_SERIES_INSTANCE_UID)
    return element.value if element is not None else None


def plan_units(files: Iterable[Path], max_files: int, *, open_series: int = OPEN_SERIES,
               read_series: Callable[[Path], str | None] = series_uid) -> Iterator[list]:
    """Lists of files, each of one series (read_series(file)) in the walk's order, at most `max_files`
    long; a file of no known series alone. A unit is given out when it is full, when its series had
    no file in the folder just walked (its folder is done), when more than `open_series` series are
    open (the oldest first), or at the end. Every file is in exactly one unit."""
    open_units: collections.OrderedDict = collections.OrderedDict()   # series -> [files]
    touched: set = set()   # series that had a file in the current folder
    folder = None
    for path in files:
        if path.parent != folder:
            for uid in [u for u in open_units if u not in touched]:
                yield open_units.pop(uid)
            folder, touched = path.parent, set()
        uid = read_series(path)
        if uid is None:
            yield [path]
            continue
        unit = open_units.setdefault(uid, [])
        unit.append(path)
        touched.add(uid)
        if len(unit) >= max_files:
            yield open_units.pop(uid)
        elif len(open_units) > open_series:
            yield open_units.pop(next(iter(open_units)))
    yield from open_units.values()
