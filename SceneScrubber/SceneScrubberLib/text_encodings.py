"""How a scene's text file (a table's CSV, a text node's .txt, markups JSON) is decoded, so that the
scrubber and the check read it the same way and a file is written back in its own encoding.

Order: a byte order mark (UTF-8, UTF-16 or UTF-32 with BOM: Python's codecs), then UTF-8, then
Windows-1252 (what Excel and Windows editors write in Western Europe), then Latin-1, which decodes
every byte: a text file is never skipped as unreadable and never called clean unread.
"""
from __future__ import annotations

import codecs

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decoded(data: bytes) -> tuple:
    """(text, encoding name for `encoded`) of a text file's bytes (see the module's text)."""
    for bom, encoding in _BOMS:   # UTF-32 LE's BOM starts with UTF-16 LE's: it is tried first
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                break
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
