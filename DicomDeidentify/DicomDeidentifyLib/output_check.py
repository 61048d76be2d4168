"""The last line of defence: a written file is read back and searched for the input's
identifying values before it is made visible.

While the engine works it notes, in a `ProtectedValues`, every value it removed or replaced
(and what it wrote instead); the reader adds the byte ranges of elements it left out unread.
`check_output` then reads the temporary output with pydicom's full parser (independently
of the fast reading and writing path), and looks for each value, in every encoding the
output's Specific Character Set allows, anywhere in the file's bytes but the pixel data:

  * person names: every component of at least 3 characters (PS3.5 6.2 PN);
  * UIDs that are not the standard's own (instance, series, study, frame of reference, ...);
  * dates (the date part of DA and DT values) the date option did not keep;
  * identifiers and other text: the whole value, when long enough to mean something
    (6 characters, 6 digits when numeric: shorter ones occur by chance in any file).

A hit raises OutputLeak naming the attribute, never the value. Values the engine wrote
itself (dummies, pseudonyms, fixed identities) are not searched for.
"""
from __future__ import annotations

import io
import re
import warnings
import zlib

import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.charset import convert_encodings, decode_bytes

from .element_decoding import Undecodable, decode_as, plain_vr
from .uids import is_standard_uid

PIXEL_DATA = 0x7FE00010
ITEM = b"\xfe\xff\x00\xe0"
DEFLATED = "1.2.840.10008.1.2.1.99"
NAME_MIN, TEXT_MIN, NUMBER_MIN, PRIVATE_TEXT_MIN = 3, 6, 6, 12
TEXT_VRS = frozenset({"LO", "SH", "LT", "ST", "UT", "UC", "AE", "UR"})
DATE_VRS = frozenset({"DA", "DT"})
SEARCHED_VRS = TEXT_VRS | DATE_VRS | {"PN", "UI"}
SEARCHED_KINDS = SEARCHED_VRS | {"ID", "BD", "PATIENT"}   # see protected_kind
STRONG_KINDS = frozenset({"PATIENT", "UI", "DA", "DT", "ID", "BD"})   # found anywhere: the file fails
NAME_KINDS = frozenset({"PN", "PATIENT"})
DATE_KINDS = frozenset({"DA", "DT", "BD"})
_DATE = re.compile(r"^\d{8}")


# The patient's own names and identifiers: searched for everywhere, short ones too.
PATIENT_NAME_TAGS = frozenset({0x00100010, 0x00101001, 0x00101005, 0x00101060})   # Patient's, Other, Birth, Mother's Birth
IDENTIFIER_TAGS = frozenset({0x00100020, 0x00101000, 0x00100021, 0x00080050, 0x00200010, 0x00401004})
BIRTH_DATE = 0x00100030


def protected_kind(tag: int, vr: str) -> str:
    """How the output check searches for a value: its VR, or PATIENT (the patient's names),
    ID (identifiers) or BD (the birth date). Other person names are searched for as names,
    but may appear where the input kept them (an observer's name also in a kept text)."""
    if tag in PATIENT_NAME_TAGS:
        return "PATIENT"
    if tag in IDENTIFIER_TAGS:
        return "ID"
    return "BD" if tag == BIRTH_DATE else vr


class OutputLeak(Exception):
    """A written file still holds a value the profile removed; `reason` names the attribute."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ProtectedValues:
    """What one file's de-identification removed or replaced, for check_output.

    Values are kept as the engine met them (raw bytes in the input's character set, or
    decoded values) and only turned into search strings if the file is checked.
    """

    def __init__(self, dates_kept: bool = False):
        self.dates_kept = dates_kept
        self.values: list = []        # (attribute name, VR, value, private)
        self.generated: list = []     # values the engine wrote
        self.encoding = "iso8859"     # the input's character set (pydicom's encodings)
        self.unread: list = []        # (tag, VR, value bytes) of elements left out unread
        self.source = None            # the input file, and the paths the engine removed or replaced:
        self.changed: set = set()     # where a free-text value is also an input value kept as it was
        self.removed: set = set()

    def add(self, name: str, vr: str, value, private: bool = False) -> None:
        if vr in SEARCHED_KINDS or vr == "SQ" or not vr:
            self.values.append((name, vr, value, private))

    def wrote(self, value) -> None:
        self.generated.append(value)


def check_output(path, protected: ProtectedValues) -> None:
    """Read the file at `path` back and raise OutputLeak if it holds a protected value."""
    data = open(path, "rb").read()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dataset = pydicom.dcmread(io.BytesIO(data))
            pixels = dataset.get_item(PIXEL_DATA)
            _parse_sequences(dataset)
        except Exception as error:
            raise OutputLeak(f"the written file cannot be read back ({type(error).__name__}: {error})") from None
    searched = _searched_bytes(data, dataset, pixels)
    encodings = _encodings(dataset)
    generated = "\x00".join(_texts(protected.generated))
    kept = None
    for name, needle, kind in _needles(protected):
        if needle in generated:
            continue
        strong = kind in STRONG_KINDS
        for encoded in _encoded(needle, encodings):
            if (encoded in searched) if kind == "UI" else _occurs(searched, encoded, kind not in DATE_KINDS):
                if not strong:
                    # free text the profile removed here, but kept in another attribute of the
                    # input (a description that is also a code meaning): not this attribute's leak
                    kept = _kept_input_texts(protected) if kept is None else kept
                    if any(_occurs(text, needle) for text in kept):
                        break
                raise OutputLeak(f"the written file still holds the original value of {name}; not kept")


WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _occurs(haystack, needle, right: bool = True) -> bool:
    """`needle` in `haystack` as a whole token: not inside a longer word ('MARY' in 'PRIMARY');
    with right=False it may be followed by more (a date that starts a date-time), but not
    follow a dot (a UID kept under Retain UIDs may hold the digits of a date)."""
    if isinstance(haystack, str):
        haystack, needle = haystack.encode("utf-8", "replace"), needle.encode("utf-8", "replace")
    position = haystack.find(needle)
    while position >= 0:
        end = position + len(needle)
        before = haystack[position - 1] if position else None
        if ((before is None or (before not in WORD and (right or before != 0x2E)) or needle[0] not in WORD)
                and (not right or end == len(haystack) or haystack[end] not in WORD or needle[-1] not in WORD)):
            return True
        position = haystack.find(needle, position + 1)
    return False


def _kept_input_texts(protected: ProtectedValues) -> list:
    """The text values of the input's elements the engine neither removed nor replaced (read
    again, only when a free-text value was found in the output)."""
    if protected.source is None:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dataset = pydicom.dcmread(str(protected.source), force=True)
        except Exception:
            return []
    texts: list = []
    _collect_kept(dataset, "", protected.changed, protected.removed, texts, 0)
    return texts


def _collect_kept(dataset, prefix: str, changed: set, removed: set, texts: list, depth: int) -> None:
    if depth > 64:
        return
    for tag in list(dataset.keys()):
        try:
            element = dataset[tag]
        except Exception:
            continue
        path = f"{prefix}{element.keyword or f'({tag >> 16:04X},{tag & 0xFFFF:04X})'}"
        vr = plain_vr(element.VR)
        if path in changed and (vr != "SQ" or path in removed):
            continue   # (a replaced sequence is walked: what its items kept counts)
        if vr == "SQ":
            for index, item in enumerate(element.value or []):
                _collect_kept(item, f"{path}[{index}].", changed, removed, texts, depth + 1)
        elif vr in TEXT_VRS or vr in ("CS", "PN"):
            texts += _texts([element.value])


def _parse_sequences(dataset, depth: int = 0) -> None:
    """Make pydicom parse every sequence, at every depth (the structure of the file); other
    values are not converted: a private one typed differently by pydicom's dictionary in
    implicit VR would fail to convert, yet its bytes are what is searched."""
    if depth > 64:
        raise ValueError("sequences nested too deep")
    for tag in list(dataset.keys()):
        element = dataset.get_item(tag)
        vr = plain_vr(getattr(element, "VR", None))
        if vr == "SQ" or (not vr and _dictionary_vr(tag) == "SQ"):
            items = dataset[tag].value
        elif vr in ("", "UN") and isinstance(element.value, bytes) and element.value[:4] == ITEM:
            # a private sequence in implicit VR (or stored as UN): read as the engine reads it
            items = decode_as(element, "SQ", dataset._character_set, stored_as_un=vr == "UN").value
        else:
            continue
        for item in items or []:
            _parse_sequences(item, depth + 1)


def _dictionary_vr(tag) -> str:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return ""


def _searched_bytes(data: bytes, dataset, pixels) -> bytes:
    """The file's bytes without the pixel data value (burned-in text is the pixel stage's
    concern, and pixel bytes match short strings by chance); a deflated body inflated."""
    if str(dataset.file_meta.get("TransferSyntaxUID", "")) == DEFLATED:
        start = 132 + 12 + int(dataset.file_meta.get("FileMetaInformationGroupLength", 0))
        try:
            return data[:start] + zlib.decompress(data[start:], -zlib.MAX_WBITS)
        except zlib.error:
            return data
    tell = getattr(pixels, "value_tell", None)
    if tell is None or not isinstance(getattr(pixels, "value", None), (bytes, bytearray)):
        return data
    return data[:tell] + data[tell + len(pixels.value):]


def _encodings(dataset) -> list:
    charset = dataset.get("SpecificCharacterSet", "")
    try:
        codecs = convert_encodings(charset or "ISO_IR 6")
    except Exception:
        codecs = ["iso8859"]
    return list(dict.fromkeys(list(codecs) + ["iso8859", "utf-8"]))


def _encoded(text: str, encodings: list) -> set:
    found = set()
    for codec in encodings:
        try:
            encoded = text.encode(codec)
        except (UnicodeError, LookupError):
            continue
        # an ISO 2022 encoder adds escape sequences a writer may have placed elsewhere
        found.update(part for part in encoded.split(b"\x1b") if len(part) >= 2) if b"\x1b" in encoded \
            else found.add(encoded)
    return found


def _texts(values) -> list:
    texts = []
    for value in values:
        if value is None:
            continue
        if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
            texts += [str(v) for v in value]
        else:
            texts.append(str(value))
    return texts


def _needles(protected: ProtectedValues):
    """(attribute name, text, kind) to search for; strong kinds (names, identifiers, UIDs,
    dates) may appear nowhere, free text nowhere but in values the input kept."""
    for name, vr, value, private in protected.values:
        for text_vr, text in _values(vr, value, protected.encoding):
            for needle in _from_value(text_vr, text, private, protected.dates_kept):
                yield name, needle, text_vr
    for name, vr, raw in protected.unread:
        for text_vr, text in _values(vr, raw, protected.encoding):
            for needle in _from_value(text_vr, text, True, protected.dates_kept):
                yield name, needle, text_vr


def _values(vr: str, value, encoding):
    """(VR, text) for each value of an element as read (raw or decoded) or of a plain value;
    for a sequence, of the names, UIDs and dates in its items."""
    if hasattr(value, "tag") and hasattr(value, "value"):   # an element
        element = value
        stored = plain_vr(element.VR)
        vr = vr or stored
        if vr == "SQ" or stored == "SQ":
            yield from _sequence_values(element, encoding)
            return
        value = element.value
    if value is None:
        return
    if isinstance(value, (bytes, bytearray)):
        if not vr or vr not in SEARCHED_KINDS:
            return   # a value no VR describes (implicit VR, private): not text we can read
        try:
            value = decode_bytes(bytes(value), encoding if isinstance(encoding, list) else [encoding],
                                 {0x5C, 0x5E, 0x3D} if vr in NAME_KINDS else {0x5C})
        except Exception:
            value = bytes(value).decode("latin-1")
        for part in value.split("\\"):
            yield vr, part.strip(" \x00")
        return
    for text in _texts([value]):
        for part in text.split("\\") if vr not in NAME_KINDS else [text]:
            yield vr, part.strip(" \x00")


def _sequence_values(element, encoding):
    if getattr(element, "is_raw", False) or isinstance(element.value, (bytes, bytearray)):
        try:
            element = decode_as(element, "SQ", encoding, stored_as_un=plain_vr(element.VR) == "UN")
        except Undecodable:
            return
    for item in element.value or []:
        try:
            for inner in item.iterall():
                vr = plain_vr(inner.VR)
                if vr in ("PN", "UI", "DA", "DT"):
                    yield from _values(vr, inner.value, encoding)
        except Exception:
            continue


def _from_value(vr: str, text: str, private: bool, dates_kept: bool):
    if not text:
        return
    if vr in NAME_KINDS:
        for component in re.split(r"[\^=]", text):
            component = component.strip()
            if len(component) >= NAME_MIN and not component.isdigit():
                yield component
    elif vr == "UI":
        if len(text) >= 8 and not is_standard_uid(text):
            yield text
    elif vr in DATE_VRS or vr == "BD":
        match = _DATE.match(text)
        if match and (vr == "BD" or not dates_kept):
            yield match.group(0)
    elif text.isdigit():
        if len(text) >= NUMBER_MIN:
            yield text
    elif len(text) >= (NAME_MIN if vr == "ID" else PRIVATE_TEXT_MIN if private else TEXT_MIN):
        yield text
