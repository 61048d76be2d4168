"""How a scene's text file (a table's CSV, a text node's .txt, markups JSON) is decoded, so that the
scrubber and the check read it the same way and a file is written back in its own encoding.

Order: a byte order mark (UTF-8, UTF-16 or UTF-32 with BOM: Python's codecs), then UTF-16 without
one (every other byte NUL: what some Windows tools write), then UTF-8, then Windows-1252 (what
Excel and Windows editors write in Western Europe), then Latin-1, which decodes every byte: a text
file is never skipped as unreadable and never called clean unread.

Whether a file is text is decided by its content (`is_text`), not by its suffix: a name in a
Windows-1252 or UTF-16 file called '.dat', '.log' or nothing is found too. Only the formats known
to hold data (images, volumes, surfaces, archives: BINARY_SUFFIXES), whose bytes may happen to read
as text and must never be rewritten as text, are left to their own handling.
"""
from __future__ import annotations

import codecs

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


SNIFF_BYTES = 8192
# Formats that hold data, whatever their bytes look like: never rewritten as text (an ASCII surface's
# coordinates are numbers an ID could spell). NRRD headers, VTK XML files and scenes have their own handling.
BINARY_SUFFIXES = (".nrrd", ".nhdr", ".mhd", ".mha", ".nii", ".nii.gz", ".gz", ".bz2", ".xz", ".zip", ".mrb",
                   ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".raw", ".img", ".hdr", ".dcm",
                   ".vtk", ".vtp", ".vtm", ".vtu", ".vti", ".stl", ".obj", ".ply", ".off", ".h5", ".hdf5",
                   ".mgz", ".npy", ".npz", ".pdf", ".mrml")
TEXT_SUFFIXES = (".json", ".txt", ".tsv", ".csv", ".ctbl", ".fcsv", ".acsv", ".xml", ".html", ".md", ".ini",
                 ".cfg", ".yaml", ".yml", ".log")
_CONTROL = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}
_NOT_CP1252 = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})


def _utf16_without_bom(data: bytes):
    """'utf-16-le' or 'utf-16-be' when every other byte of `data` is NUL (Latin text in UTF-16), else None."""
    pairs = len(data) // 2
    if pairs < 2:
        return None
    even, odd = data[0:pairs * 2:2], data[1:pairs * 2:2]
    for zeros, other, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros.count(0) >= 0.9 * pairs and other.count(0) == 0:
            return encoding
    return None


def is_text(name: str, head: bytes) -> bool:
    """Whether a scene's file is text to read and rewrite as text: not one of BINARY_SUFFIXES, and a
    text suffix or content that reads as text (a BOM; UTF-16 without one; no NUL and UTF-8, or
    Windows-1252 with no control characters). `head`: the file's first SNIFF_BYTES bytes."""
    lower = name.lower()
    if lower.endswith(BINARY_SUFFIXES):
        return False
    if lower.endswith(TEXT_SUFFIXES) or any(head.startswith(bom) for bom, _encoding in _BOMS):
        return True
    if _utf16_without_bom(head):
        return True
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 4 and len(head) >= SNIFF_BYTES:   # a character cut at the end
            return True
    return not any(byte in _CONTROL or byte in _NOT_CP1252 for byte in head)


def decoded(data: bytes) -> tuple:
    """(text, encoding name for `encoded`) of a text file's bytes (see the module's text)."""
    for bom, encoding in _BOMS:   # UTF-32 LE's BOM starts with UTF-16 LE's: it is tried first
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                break
    utf16 = _utf16_without_bom(data[:SNIFF_BYTES])
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")


def encoded(text: str, encoding: str) -> bytes:
    """The text in the encoding `decoded` found (a BOM written again where there was one; a character
    the encoding lacks as '?', which only the scrubber's replacements could bring and they are ASCII)."""
    return text.encode(encoding, errors="replace")
