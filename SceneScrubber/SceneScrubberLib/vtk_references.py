"""Which other files a VTK XML file makes VTK open, decided from its bytes before VTK opens anything.

A composite VTK XML file (a closed-surface segmentation's .seg.vtm: vtkMultiBlockDataSet; also
vtkPartitionedDataSet(Collection), AMR, the parallel 'P...' formats) names other files: a
DataSet's (or Piece's) `file` attribute, a parallel piece's `Source`. VTK's readers pick the
reader of each by its content, not its suffix, and follow a piece that is itself composite, so a
file named '.xml' or '.vtp' can lead VTK anywhere (an absolute path, a FIFO that blocks the read:
review 14d C1). Here the type comes from the VTKFile element and the references from the whole
XML, read with the scene's safe XML parser (defusedxml: no DTD, no entities); callers check each
reference (relative, inside the scene, a regular file) at every level before VTK reads a staged
copy. Data set types that hold their own data (PolyData, ImageData, ...) name no file.
"""
from __future__ import annotations

import io
import posixpath
import re
import xml.etree.ElementTree as ET

from .mrml_scrubber import SceneError, _FORBIDDEN, _iterparse

HEAD_BYTES = 4096
MAX_COMPOSITE_BYTES = 64 << 20   # a composite file is a short XML list of pieces
MAX_DEPTH = 256
MAX_LEVELS = 8   # composite files inside composite files (Slicer writes one level)
# types whose files hold their data (inline or appended raw bytes, which no XML parser reads)
DATA_TYPES = frozenset({"PolyData", "ImageData", "UnstructuredGrid", "StructuredGrid", "RectilinearGrid",
                        "HyperTreeGrid", "Table"})
_VTKFILE = re.compile(rb'^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<VTKFile\b([^>]*)>', re.S)
_TYPE = re.compile(rb'\btype\s*=\s*["\']([^"\']*)["\']')
_REFERENCE_ATTRIBUTES = ("file", "Source")


def declared_type(head: bytes) -> str | None:
    """The type a VTK XML file's VTKFile element declares ('PolyData', 'vtkMultiBlockDataSet'; ''
    for none), or None when `head` (the file's first bytes) is no VTK XML file: by content."""
    match = _VTKFILE.match(head[:HEAD_BYTES])
    if match is None:
        return None
    kind = _TYPE.search(match.group(1))
    return kind.group(1).decode("latin-1") if kind else ""


def names_files(head: bytes) -> bool:
    """Whether a file (by its first bytes) is VTK XML of a type that can name other files."""
    kind = declared_type(head)
    return kind is not None and kind not in DATA_TYPES


def references(data: bytes, what: str) -> list:
    """The files a VTK XML file names, as written, in the file's order ([] for a data type or no
    VTK XML). `data`: the whole file (a composite file longer than MAX_COMPOSITE_BYTES is refused);
    `what`: the file in neutral words, for messages. SceneError for a file that does not parse."""
    if not names_files(data[:HEAD_BYTES]):
        return []
    if len(data) > MAX_COMPOSITE_BYTES:
        raise SceneError(f"{what} is a VTK composite file larger than {MAX_COMPOSITE_BYTES >> 20} MiB: refused")
    found, depth = [], 0
    try:
        for event, element in _iterparse(io.BytesIO(data), ("start", "end")):
            if event == "end":
                depth -= 1
                continue
            depth += 1
            if depth > MAX_DEPTH:
                raise SceneError(f"{what} nests XML elements deeper than {MAX_DEPTH} levels: refused")
            found += [element.get(key) for key in _REFERENCE_ATTRIBUTES if element.get(key)]
    except (_FORBIDDEN, ET.ParseError):
        raise SceneError(f"{what} is a VTK composite file that is no readable XML: refused (damaged file)") from None
    return found


def inside(reference: str, what: str) -> str:
    """A reference as a normalised relative path ('/' separators) below the referencing file's
    folder; SceneError for an absolute path, a drive or one that leaves that folder."""
    relative = reference.replace("\\", "/")
    if relative.startswith("/") or re.match(r"^[A-Za-z]:", relative):
        raise SceneError(f"a piece that {what} names is an absolute path: refused (only the scene's own files "
                         "are read)")
    relative = posixpath.normpath(relative)
    if relative == ".." or relative.startswith("../") or relative == ".":
        raise SceneError(f"a piece that {what} names lies outside its folder: refused")
    return relative


def read_regular(path, limit: int = MAX_COMPOSITE_BYTES, what: str = "a piece of a VTK composite file") -> bytes:
    """Up to `limit` + 1 bytes of a regular file, opened without following a link and without
    blocking on a pipe; SceneError (naming the file as `what` says) for anything that is no regular
    file (a FIFO is never read)."""
    import os
    import stat
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
                             | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise SceneError(f"{what} is not in the scene: refused") from None
    except OSError:
        raise SceneError(f"{what} cannot be opened as a regular file (a link?): refused") from None
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise SceneError(f"{what} is not a regular file (device, pipe or socket): refused")
        return stream.read(limit + 1)
