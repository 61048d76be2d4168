"""Detached headers: a NRRD .nhdr's `data file:` line and a MetaImage .mhd's `ElementDataFile`
name the file that holds the image, relative to the header. The scene lists only the header, so
the scrubber follows this line (to read, bring in or refuse the data file, with the rules of
storage nodes' file names) and rewrites it when the data file gets a new name.

Several files are followed the same way (`data_files`): NRRD `data file: LIST [<subdim>]` with one
name a line after it (to the end of the header), NRRD `data file: <format> <min> <max> <step>
[<subdim>]` (a printf pattern such as 'slice_%03d.raw'), MetaImage `ElementDataFile = LIST [2D]`
with one name a line after it, and MetaImage's pattern `ElementDataFile = <format> <min> <max>
<step>`; `with_data_files` rewrites the names (a pattern as a pattern). Data inside the header
(`LOCAL`) has no file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

HEADER_SUFFIXES = (".nhdr", ".mhd")
MAX_PATTERN_FILES = 100000   # a pattern naming more files than this is refused (a damaged header)
MAX_HEADER_BYTES = 1024 * 1024
_NRRD_LINE = re.compile(rb"^(data ?file: ?)([^\n]+?)[ \r]*$", re.MULTILINE)
_META_LINE = re.compile(rb"^(ElementDataFile\s*=\s*)([^\n]+?)[ \r]*$", re.MULTILINE)


def is_detached_header(name: str) -> bool:
    """Whether a file name is a detached header (.nhdr, .mhd; any case) whose data file line names another file."""
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


@dataclass(frozen=True)
class DataFiles:
    """The data files a detached header names: `written`, the names as the header writes them (one
    name; the names of a LIST; a pattern's format), `files` every file (a pattern's expanded, in
    order), `pattern` (min, max, step) for a pattern, else None."""
    written: tuple
    files: tuple
    pattern: tuple | None = None


def _pattern(fields: list):
    """(format, (min, max, step)) of a pattern line's fields, or None when they are no pattern."""
    if len(fields) not in (4, 5) or "%" not in fields[0] or not all(re.fullmatch(r"-?\d+", f) for f in fields[1:4]):
        return None
    return fields[0], tuple(int(f) for f in fields[1:4])


def expanded(form: str, numbers: tuple) -> tuple:
    """The file names a pattern names (NRRD's and MetaIO's: min to max, inclusive, by step);
    ValueError for a format that is no single integer conversion, a zero step or too many files."""
    if not re.fullmatch(r"[^%]*%0?\d*d[^%]*", form):
        raise ValueError("no single %d conversion")
    low, high, step = numbers
    if step == 0 or (high - low) // step + 1 > MAX_PATTERN_FILES:
        raise ValueError("a zero step or too many files")
    return tuple(form % index for index in range(low, high + (1 if step > 0 else -1), step))


def data_files(header: bytes, name: str) -> DataFiles | None:
    """Every data file the header `name` (.nhdr or .mhd) names (see the module's text), or None for
    none (LOCAL, no line). ValueError for a pattern that cannot be expanded."""
    match = _line(header, name)
    value = match.group(2).decode("latin-1").strip() if match else ""
    fields = value.split()
    if not fields or value.upper() == "LOCAL":
        return None
    if fields[0] == "LIST":
        rest = header[match.end():]
        if name.lower().endswith(".nhdr"):
            rest = rest.split(b"\n\n")[0]
        names = tuple(line.strip() for line in rest.decode("latin-1").split("\n") if line.strip())
        return DataFiles(names, names) if names else None
    pattern = _pattern(fields)
    if pattern:
        return DataFiles((pattern[0],), expanded(*pattern), pattern[1])
    return DataFiles((value,), (value,))


def with_data_files(header: bytes, name: str, renames: dict) -> bytes:
    """The header with each name it writes (a single name, the names of a LIST, a pattern's format)
    replaced as `renames` (old written name -> new) says; the rest byte for byte."""
    match = _line(header, name)
    if match is None or not renames:
        return header
    value = match.group(2).decode("latin-1").strip()
    fields = value.split()
    if fields and fields[0] == "LIST":
        end = len(header)
        if name.lower().endswith(".nhdr") and b"\n\n" in header[match.end():]:
            end = header.index(b"\n\n", match.end())
        lines = header[match.end():end].split(b"\n")
        for index, line in enumerate(lines):
            old = line.decode("latin-1").strip()
            if old in renames:
                lines[index] = line.replace(old.encode("latin-1"), renames[old].encode("latin-1"), 1)
        return header[:match.end()] + b"\n".join(lines) + header[end:]
    pattern = _pattern(fields)
    old = pattern[0] if pattern else value
    if old not in renames:
        return header
    start = match.start(2) + match.group(2).decode("latin-1").index(old)
    return header[:start] + renames[old].encode("latin-1") + header[start + len(old.encode("latin-1")):]
