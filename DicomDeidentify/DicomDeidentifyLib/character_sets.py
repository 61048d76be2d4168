"""Specific Character Set (0008,0005) that holds every value the tool writes from the user.

A fixed Patient's Name or Patient ID (--identity fixed) may hold characters the file's character
set cannot (a "Müller" in a file with none declared, a "Dvořák" in a Japanese one). Written anyway,
pydicom replaces them or writes bytes of another character set, and the output reads a different
name. PS3.5 6.1 and PS3.3 C.12.1.1.2 give two ways to make room:

- a file with code extensions (ISO 2022 terms, Table C.12-3/C.12-4) gets the term that holds the
  missing characters added after its own; its other values, and their escape sequences, stay valid;
- a file without them is re-encoded as ISO_IR 192 (UTF-8, which holds every character): every text
  value is decoded with the old character set first, and a value that did not decode cleanly makes
  the file fail rather than be written wrong.

The tool's own values (pseudonyms, dummies, markers) are ASCII, which every character set holds.
"""
from __future__ import annotations

from pydicom.charset import custom_encoders, python_encoding
from pydicom.dataset import Dataset

from .errors import SafeError

# VRs whose values are in the Specific Character Set (PS3.5 6.1.2.3); the others use the default repertoire.
CHARACTER_SET_VRS = frozenset({"SH", "LO", "ST", "LT", "UC", "UT", "PN"})
UTF8 = "ISO_IR 192"
ASCII_TERMS = frozenset({"", "ISO_IR 6", "ISO 2022 IR 6"})
# The code-extension terms (PS3.3 Table C.12-3 and C.12-4), in the order they are tried for a character.
EXTENSION_TERMS = ("ISO 2022 IR 100", "ISO 2022 IR 101", "ISO 2022 IR 109", "ISO 2022 IR 110",
                   "ISO 2022 IR 148", "ISO 2022 IR 126", "ISO 2022 IR 144", "ISO 2022 IR 127",
                   "ISO 2022 IR 138", "ISO 2022 IR 166", "ISO 2022 IR 13", "ISO 2022 IR 87",
                   "ISO 2022 IR 159", "ISO 2022 IR 149", "ISO 2022 IR 58")


class CharacterSetError(SafeError, ValueError):
    """The file's character set cannot be made to hold a value written from the user; the text
    names the character set's terms and the attribute, never a value."""


def terms_of(dataset: Dataset) -> list:
    """The Specific Character Set of `dataset` as a list of terms ([''] when none is declared)."""
    value = dataset.get("SpecificCharacterSet", "") or ""
    terms = [value] if isinstance(value, str) else [str(v) for v in value]
    return [t.strip() for t in terms] or [""]


def holds(terms: list, text: str) -> bool:
    """Whether `text` can be written in the character set `terms`: in its one character set, or,
    with code extensions, every character in one of its terms (pydicom switches between them
    with escape sequences)."""
    if len(terms) == 1 and not terms[0].startswith("ISO 2022"):
        return _encodes(terms[0], text)
    return all(any(_encodes(term, ch) for term in terms) for ch in text)


def _encodes(term: str, text: str) -> bool:
    if term in ASCII_TERMS:
        return text.isascii()   # pydicom's codec for the default repertoire is Latin-1: ASCII is meant
    codec = python_encoding.get(term)
    if codec is None:
        return False
    try:
        encoder = custom_encoders.get(codec)
        encoder(text, errors="strict") if encoder else text.encode(codec)
        return True
    except (UnicodeError, ValueError):
        return False


def has_code_extensions(terms: list) -> bool:
    """Whether the Specific Character Set `terms` (a non-empty list of defined terms, as terms_of returns)
    uses ISO 2022 code extensions (PS3.3 C.12.1.1.2): more than one term, or a single 'ISO 2022 ...' term."""
    return len(terms) > 1 or terms[0].startswith("ISO 2022")


def fit_character_set(dataset: Dataset, written: dict, nested=()) -> str:
    """Make the Specific Character Set of `dataset` hold every value in `written` (attribute
    keyword or path -> the text written from the user into `dataset` itself), as described in the
    module's docstring; `nested` gives the values written inside sequence items, at any depth, as
    (the data sets from `dataset` down to the item written into, name, text). A sequence item that
    declares a Specific Character Set of its own governs its values and those of the items inside
    it (as pydicom reads and writes it; PS3.3 C.12.1.1.2): that item's set is extended or re-encoded
    the same way; values in items declaring none are held by the nearest enclosing one that does.

    Returns what was changed ('' when nothing needed to be). Raises CharacterSetError when no term
    can be added for a data set with code extensions, or when a text value of it did not decode
    cleanly with its own character set (so it cannot be re-encoded as UTF-8).
    """
    changes = [_fit(dataset, dict(written), top=True)]
    pending = [(tuple(chain), name, text) for chain, name, text in nested]
    while pending:
        # the shallowest governing item first: re-encoding it takes the sets of the items inside
        # it away, whose values it then governs
        governed = [(_governing(chain), entry) for entry in pending for chain in [entry[0]]]
        depth = min(level for level, _entry in governed)
        item = next(entry[0][level] for level, entry in governed if level == depth)
        values = {entry[1]: entry[2] for level, entry in governed if level == depth and entry[0][level] is item}
        pending = [entry for level, entry in governed if not (level == depth and entry[0][level] is item)]
        changes.append(_fit(item, values, top=depth == 0))
    return "; ".join(change for change in changes if change)


def _governing(chain: tuple) -> int:
    """The index in `chain` (data sets from the top level down) of the one whose Specific Character
    Set governs a value written into the last: the deepest declaring one, else the top level."""
    return next((level for level in range(len(chain) - 1, 0, -1) if "SpecificCharacterSet" in chain[level]), 0)


def _fit(dataset: Dataset, written: dict, top: bool) -> str:
    """fit_character_set for the values written in one data set whose own set governs them."""
    needing = {keyword: text for keyword, text in written.items() if text and not text.isascii()}
    terms = terms_of(dataset)
    missing = {keyword: text for keyword, text in needing.items() if not holds(terms, text)}
    if not missing:
        return ""
    names = ", ".join(sorted(missing))
    shown = "\\".join(terms) or "none (the default repertoire)"
    where = "" if top else " of a sequence item"
    if has_code_extensions(terms):
        added = []
        for ch in "".join(missing.values()):
            if not holds(terms + added, ch):
                term = next((t for t in EXTENSION_TERMS if t not in terms + added and _encodes(t, ch)), None)
                if term is None:
                    raise CharacterSetError(f"Specific Character Set {shown}{where} cannot hold the {names} "
                                            "written, and no code extension can: use a value in the file's "
                                            "character set")
                added.append(term)
        dataset.SpecificCharacterSet = terms + added   # the first term, the initial state, stays
        return f"code extension {', '.join(added)} added to Specific Character Set{where} for the {names} written"
    _decode_text(dataset, shown, names)
    dataset.SpecificCharacterSet = UTF8
    return f"Specific Character Set {shown}{where} re-encoded as {UTF8} for the {names} written"


def _decode_text(dataset: Dataset, shown: str, names: str, top: bool = True) -> None:
    """Decode every text value of `dataset` (with the character set it was read with), so that the
    writer encodes it anew; a nested Specific Character Set goes, the top-level one then governs."""
    for tag in list(dataset.keys()):
        element = dataset[tag]   # decoded now, as the old character set says
        if element.VR == "SQ":
            for item in element.value or []:
                _decode_text(item, shown, names, top=False)
        elif element.VR in CHARACTER_SET_VRS and "\ufffd" in str(element.value):
            raise CharacterSetError(f"the {names} written needs Specific Character Set {UTF8}, but text "
                                    f"of {element.keyword or 'a private attribute'} does not decode as "
                                    f"{shown}, so it cannot be re-encoded")
    if not top and "SpecificCharacterSet" in dataset:
        del dataset.SpecificCharacterSet


def fixed_value_problem(value: str, vr: str) -> str:
    """What makes `value` unfit as the fixed value of a `vr` ('PN' or 'LO') attribute, '' if nothing:
    a backslash (it separates values), a control character (PS3.5 6.2: none in PN or LO; an ESC
    would switch character sets), or more than 64 characters (per component group for PN)."""
    if "\\" in value:
        return "holds a backslash, which separates values in DICOM"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return "holds a control character"
    parts = value.split("=") if vr == "PN" else [value]
    if vr == "PN" and len(parts) > 3:
        return "has more than three component groups (alphabetic=ideographic=phonetic)"
    if any(len(part) > 64 for part in parts):
        return "is longer than 64 characters" + (" in a component group" if vr == "PN" else "")
    return ""
