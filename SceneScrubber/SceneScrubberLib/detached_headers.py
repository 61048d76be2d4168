"""Detached headers: a NRRD .nhdr's `data file:` line and a MetaImage .mhd's `ElementDataFile`
name the file that holds the image, relative to the header. The scene lists only the header, so
the scrubber follows this line (to read, bring in or refuse the data file, with the rules of
storage nodes' file names) and rewrites it when the data file gets a new name.

Several files (NRRD `LIST` or a pattern, MetaImage `LIST` or a pattern) and data inside the header
(`LOCAL`) are not followed: those data files keep their names (the check reports one that names
a patient).
"""
from __future__ import annotations

import re

HEADER_SUFFIXES = (".nhdr", ".mhd")
MAX_HEADER_BYTES = 1024 * 1024
_NRRD_LINE = re.compile(rb"^(data ?file: ?)([^\n]+?)[ \r]*$", re.MULTILINE)
_META_LINE = re.compile(rb"^(ElementDataFile\s*=\s*)([^\n]+?)[ \r]*$", re.MULTILINE)


def is_detached_header(name: str) -> bool:
    return name.lower().endswith(HEADER_SUFFIXES)


def _line(header: bytes, name: str):
    if name.lower().endswith(".nhdr"):
        return _NRRD_LINE.search(header.split(b"\n\n")[0]) if header.startswith(b"NRRD") else None
    return _META_LINE.search(header)


def data_file(header: bytes, name: str) -> str:
    """The single data file the header `name` (.nhdr or .mhd) names, as written ('' for none, a list,
    a pattern or LOCAL). Shapes: NRRD's "data file" field (teem's format definition) and MetaIO's
    ElementDataFile (ITK's MetaImage format)."""
    match = _line(header, name)
    value = match.group(2).decode("latin-1").strip() if match else ""
    fields = value.split()
    # A single name may hold '%' ('Doe%20John_T1.raw.gz', as Slicer writes spaces), so a name is a
    # pattern only with the numeric fields after it.
    if value.upper() in ("LOCAL", "") or value.startswith("LIST") or (
            len(fields) in (4, 5) and "%" in fields[0] and all(re.fullmatch(r"-?\d+", f) for f in fields[1:])):
        return ""
    return value


def with_data_file(header: bytes, name: str, old: str, new: str) -> bytes:
    """The header with its data file line naming `new` instead of `old` (the rest byte for byte)."""
    match = _line(header, name)
    if match is None or match.group(2).decode("latin-1").strip() != old:
        return header
    return header[:match.start(2)] + new.encode("latin-1") + header[match.end(2):]
