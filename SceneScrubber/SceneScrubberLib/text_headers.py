"""Free text inside data formats that are otherwise streamed as data: MetaImage headers (.mhd, and
the text before an .mha's data), PLY headers, STL headers and solid names, OBJ comments and names.
The scrubber rewrites that text and the check reads it, both through `text_spans`, so that they
read the same bytes the same way (review 14d L9, L10).

  * MetaImage (MetaIO, https://itk.org/Wiki/ITK/MetaIO/Documentation): 'Key = value' lines up to
    and including ElementDataFile (an .mha's data follows it; a .mhd is all header). The values of
    MetaIO's own fields (STRUCTURE_KEYS: ObjectType, DimSize, ElementType, ...) are the format's;
    Name, Comment, AcquisitionDate and every other key (ITK writes its MetaDataDictionary so) are
    text, key and value, as a NRRD header's lines are. ElementDataFile and a LIST's file names
    are left to detached_headers (the files' renaming).
  * PLY (http://paulbourke.net/dataformats/ply/): the header up to 'end_header'; 'comment' and
    'obj_info' lines are text, the rest (element and property lines) the format's.
  * STL: a binary file's 80-byte header (free text, padded; its length is kept); an ASCII file's
    'solid <name>' and 'endsolid <name>' lines.
  * OBJ (and its .mtl): '#' comment lines and 'o'/'g' (object and group name) lines; material and
    file names (usemtl, mtllib) stay: they name other things.
A spelling elsewhere in these files is not rewritten. Where the format names things it keeps (a
PLY element's or property's name, an OBJ or MTL material or library name: `kept_name_spans`),
the check looks for every spelling, the short ones too ('DoeJ', 'JDoe', 'J. Doe'), as in the
rewritten text, so the scrub's own check finds it and the scrub fails (exit 1), never certified;
PLY's standard names ('red', 'green', 'vertex_indices', PLY_NAMES) are the format's vocabulary
and never a value. Anywhere else (numbers, binary data) the check looks for the long spellings.
"""
from __future__ import annotations

import re

SUFFIXES = (".mhd", ".mha", ".ply", ".stl", ".obj", ".mtl")
MAX_HEADER_BYTES = 1 << 20   # a MetaImage or PLY header longer than this is refused
CHUNK_BYTES = 1 << 20
MAX_LINE_BYTES = 16 << 20   # a longer "line" of a line format is cut (no real OBJ or STL line is)
STL_HEADER_BYTES = 80
STRUCTURE_KEYS = frozenset({
    "objecttype", "objectsubtype", "transformtype", "ndims", "id", "parentid", "compresseddata",
    "compresseddatasize", "binarydata", "binarydatabyteordermsb", "elementbyteordermsb", "color", "position",
    "origin", "offset", "transformmatrix", "rotation", "orientation", "centerofrotation", "anatomicalorientation",
    "elementspacing", "elementsize", "dimsize", "headersize", "headersizeperslice", "modality", "sequenceid",
    "elementmin", "elementmax", "elementnumberofchannels", "elementtype", "fileformatversion", "distanceunits",
    "elementdatafile"})
_OBJ_TEXT = re.compile(rb"^([ \t]*(?:#|[og](?=[ \t])))([^\r\n]*)", re.MULTILINE)
_STL_TEXT = re.compile(rb"^([ \t]*(?:end)?solid(?=[ \t\r\n]|$)[ \t]?)([^\r\n]*)", re.MULTILINE)
_PLY_TEXT = re.compile(rb"^((?:comment|obj_info)(?=[ \t\r\n]|$)[ \t]?)([^\r\n]*)", re.MULTILINE)


# Element and property names of PLY files as VTK, MeshLab and other tools write them: the format's own
PLY_NAMES = frozenset({
    "vertex", "face", "edge", "material", "x", "y", "z", "nx", "ny", "nz", "red", "green", "blue", "alpha",
    "diffuse_red", "diffuse_green", "diffuse_blue", "vertex_indices", "vertex_index", "vertex1", "vertex2",
    "texture_u", "texture_v", "u", "v", "s", "t", "texcoord", "intensity", "confidence", "quality", "flags",
    "radius", "scalar", "normals", "tcoords", "rgb", "rgba", "value"})
_PLY_NAME = re.compile(rb"^(?:element[ \t]+(\S+)|property[ \t]+(?:list[ \t]+\S+[ \t]+)?\S+[ \t]+(\S+))",
                       re.MULTILINE)
# OBJ and MTL statements whose arguments are names (materials, libraries, texture maps): kept, not rewritten
_OBJ_NAMED = re.compile(rb"^[ \t]*(?:usemtl|mtllib|newmtl|maplib|usemap|map_\w+|bump|disp|decal|refl|norm)"
                        rb"[ \t]+([^\r\n]*)", re.MULTILINE)


def kept_name_spans(kind_: str, data: bytes) -> list:
    """[(start, end)] byte spans of names in `data` that the format keeps and the scrub does not
    rewrite (see the module's text): PLY element and property names but its standard ones
    (PLY_NAMES), OBJ and MTL material, library and map names; [] for the other kinds."""
    if kind_ == "ply":
        spans = []
        for match in _PLY_NAME.finditer(data):
            group = 1 if match.group(1) is not None else 2
            if match.group(group).decode("latin-1").lower() not in PLY_NAMES:
                spans.append(match.span(group))
        return spans
    if kind_ == "obj":
        return [match.span(1) for match in _OBJ_NAMED.finditer(data) if match.end(1) > match.start(1)]
    return []


class HeaderError(Exception):
    """A header that cannot be read whole (longer than MAX_HEADER_BYTES)."""


def kind(name: str, head: bytes) -> str | None:
    """'meta', 'ply', 'stl-binary', 'stl-ascii' or 'obj' for a file (by its suffix and first bytes)
    whose free text this module reads, else None."""
    lower = name.lower()
    if lower.endswith((".mhd", ".mha")):
        return "meta"
    if lower.endswith(".ply") and head.startswith(b"ply"):
        return "ply"
    if lower.endswith(".stl"):
        ascii_stl = head.lstrip().startswith(b"solid") and b"\0" not in head[:1024] and b"facet" in head[:4096]
        return "stl-ascii" if ascii_stl or (head.lstrip().startswith(b"solid") and len(head) < 84) else "stl-binary"
    if lower.endswith((".obj", ".mtl")):
        return "obj"
    return None


def header_length(kind_: str, data: bytes) -> int | None:
    """How many bytes of `data` (the file's start) are the header whose lines are searched: a
    MetaImage's up to its ElementDataFile line (the whole of `data` for a .mhd), a PLY's up to
    'end_header', an STL's 80 bytes; None for the line formats read whole (ASCII STL, OBJ)."""
    if kind_ == "stl-binary":
        return min(STL_HEADER_BYTES, len(data))
    if kind_ == "meta":
        match = re.search(rb"^[ \t]*ElementDataFile[ \t]*=[^\n]*(\n|$)", data, re.MULTILINE)
        if match and not re.match(rb"[ \t]*ElementDataFile[ \t]*=[ \t]*LIST", match.group(0)):
            return match.end()
        return len(data)
    if kind_ == "ply":
        match = re.search(rb"^end_header[ \t\r]*(\n|$)", data, re.MULTILINE)
        return match.end() if match else len(data)
    return None


def text_spans(kind_: str, data: bytes) -> list:
    """[(start, end)] byte spans of free text in `data` (a header, or whole lines of a line format;
    see the module's text), in order."""
    if kind_ == "stl-binary":
        return [(0, min(STL_HEADER_BYTES, len(data)))]
    if kind_ in ("obj", "stl-ascii", "ply"):
        pattern = {"obj": _OBJ_TEXT, "stl-ascii": _STL_TEXT, "ply": _PLY_TEXT}[kind_]
        return [match.span(2) for match in pattern.finditer(data) if match.end(2) > match.start(2)]
    spans, position, file_list = [], 0, False
    for line in data.split(b"\n"):
        end = position + len(line.rstrip(b"\r"))
        key = line.split(b"=", 1)[0].strip().lower().decode("latin-1") if b"=" in line else None
        if key == "elementdatafile":
            file_list = line.split(b"=", 1)[1].strip().startswith(b"LIST")
        elif not file_list and key not in STRUCTURE_KEYS and end > position:
            spans.append((position, end))   # key and value: an ITK dictionary entry's key can be identity
        position += len(line) + 1
    return spans


def _decoded(raw: bytes) -> tuple:
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def rewritten(kind_: str, data: bytes, redact) -> bytes:
    """`data` with the text of each span (text_spans) replaced by `redact(text)`, decoded as UTF-8
    (else Latin-1) and written back in the same; a binary STL header keeps its 80 bytes."""
    pieces, last = [], 0
    for start, end in text_spans(kind_, data):
        text, encoding = _decoded(data[start:end])
        new = redact(text)
        if new == text:
            continue
        raw = new.encode(encoding, "replace")
        if kind_ == "stl-binary":   # a fixed field: cut or padded with what padded it (NUL or space)
            pad = data[end - 1:end] if data[end - 1:end] in (b"\0", b" ") else b"\0"
            raw = raw[:end - start].ljust(end - start, pad)
        pieces += [data[last:start], raw]
        last = end
    return b"".join(pieces) + data[last:] if pieces else data


def read_header(kind_: str, head: bytes, source) -> bytes:
    """The file's header (header_length) read whole from `source` after `head`; for the line formats,
    `head` itself. HeaderError for a header longer than MAX_HEADER_BYTES."""
    data = head
    if kind_ not in ("meta", "ply"):
        return data
    ending = rb"^[ \t]*ElementDataFile[ \t]*=[^\n]*\n" if kind_ == "meta" else rb"^end_header[ \t\r]*\n"
    while not re.search(ending, data, re.MULTILINE) and len(data) <= MAX_HEADER_BYTES:
        more = source.read(CHUNK_BYTES)
        if not more:
            return data
        data += more
    if header_length(kind_, data) > MAX_HEADER_BYTES:
        raise HeaderError(f"its header is longer than {MAX_HEADER_BYTES >> 20} MiB, which the scrubber does not read")
    return data


def line_chunks(head: bytes, source):
    """The file from `head` on, in chunks that end at a line's end (a line format's text is whole)."""
    rest = head
    while True:
        more = source.read(CHUNK_BYTES)
        if not more:
            if rest:
                yield rest
            return
        rest += more
        cut = rest.rfind(b"\n") + 1 or (len(rest) if len(rest) > MAX_LINE_BYTES else 0)
        if cut:
            yield rest[:cut]
            rest = rest[cut:]
