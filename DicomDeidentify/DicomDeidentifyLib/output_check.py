"""The last line of defence: a written file is read back and searched for the input's
identifying values before it is made visible.

While the engine works it notes, in a `ProtectedValues`, every value it removed or replaced
(and what it wrote instead); the reader adds the elements it left out unread. `check_output`
then reads the temporary output with pydicom's data set parser (independently of the fast
reading and writing path; every sequence parsed, the pixel data value skipped) and looks for
each value, in every encoding the output's Specific Character Set allows, anywhere in the
file's bytes but the pixel data value, as a whole token ('MARY' is not in 'PRIMARY'):

  * found anywhere, the file fails: the patient's names (every component of at least 3
    characters), identifiers (at least 3 characters, 6 digits when numeric: shorter ones
    occur by chance in any file), the birth date, UIDs that are not the standard's own,
    dates (the date part of DA and DT values) the date option did not keep; but a UID under
    Retain UIDs, a date (the birth date too) under Retain Full Dates that the input kept in
    other attributes at least as often as the output holds it is theirs, not this one's leak
    (a newborn's birth date is its study date);
  * other person names and free text (6 characters or more, 12 for private attributes the
    engine parsed; of private attributes left out unread only names, UIDs and dates) fail
    the file unless the input kept the same text in another attribute (a study description
    that is also a kept code meaning is not this attribute's leak).

A hit raises OutputLeak naming the attribute, never the value. Values the engine wrote
itself (dummies, pseudonyms, fixed identities, the de-identification markers) do not count.
Not searched for: numbers, codes (CS), times, binary values, private values in implicit VR
no dictionary describes, and burned-in text (the pixel stage's concern).
"""
from __future__ import annotations

import io
import re
from functools import lru_cache
import struct
import warnings
import zlib

import pydicom
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.filereader import read_dataset
from pydicom.charset import convert_encodings, decode_bytes

from .dummies import CODE_MEANING, CODE_VALUE, is_code_sequence
from .element_decoding import Undecodable, decode_as, plain_vr
from .errors import error_kind
from .structure_check import body_offset, meta_layout
from .tables import profile_table
from .uids import is_standard_uid, names_no_instance

PIXEL_DATA = 0x7FE00010
ITEM = b"\xfe\xff\x00\xe0"
PIXEL_TAG = {True: b"\xe0\x7f\x10\x00", False: b"\x7f\xe0\x00\x10"}   # (7FE0,0010), by byte order
FRONT_READ = 256 * 1024   # bytes read at once: the whole header of nearly every file
DEFLATED = "1.2.840.10008.1.2.1.99"
IMPLICIT_LITTLE, EXPLICIT_BIG = "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"
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
CODE_TAGS = frozenset({CODE_VALUE, 0x00080119, 0x00080120, CODE_MEANING})   # Code, Long Code, URN Code Value


@lru_cache(maxsize=4096)
def coded_identifier(tag: int):
    """(kind of the code, kind of its meaning) for a code sequence whose items identify someone,
    else None. The engine's rule (engine._sequence_action): a code sequence (dummies.
    is_code_sequence) under D in Table E.1-1 has its codes and meanings replaced, so they are
    identifiers (Person Identification, Institution Code Sequence); so are those of a code
    sequence the table lists and the standard names an identification ('... Identification
    Code Sequence', '... Identifier Code Sequence (Trial)'), whatever its action. A person's code
    is searched as an identifier and its meaning as a name; any other's (an institution's) as text."""
    if not is_code_sequence(tag):
        return None
    row = profile_table().lookup(tag)
    if row is None:
        return None
    person = "Identif" in keyword_for_tag(tag)
    if not person and "D" not in row.action("basic").split("/"):
        return None
    return ("ID", "PN") if person else ("SH", "LO")


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

    def __init__(self, dates_kept: bool = False, uids_kept: bool = False):
        self.dates_kept = dates_kept   # Retain Full Dates, Retain UIDs: such values may be kept elsewhere
        self.uids_kept = uids_kept
        self.values: list = []        # (attribute name, VR, value, private)
        self.generated: list = []     # values the engine wrote
        self.encoding = "iso8859"     # the input's character set (pydicom's encodings)
        self.unread: list = []        # (tag, VR, value bytes) of elements left out unread
        self.source = None            # the input file, and the paths the engine removed or replaced:
        self.changed: set = set()     # where a free-text value is also an input value kept as it was
        self.removed: set = set()

    def add(self, name: str, vr: str, value, private: bool = False) -> None:
        """Record a value the engine removed or replaced: attribute `name`, its `vr`, the `value` as met (raw
        bytes or decoded), `private` for a private attribute. Kept only for the kinds check_output searches
        (SEARCHED_KINDS), sequences and elements of unknown VR; others are ignored."""
        if vr in SEARCHED_KINDS or vr == "SQ" or not vr:
            self.values.append((name, vr, value, private))

    def wrote(self, value) -> None:
        """Record a value the engine wrote itself (a pseudonym, dummy, marker or fixed value; str or a list
        of them): found in the output, it is no leak."""
        self.generated.append(value)


def check_output(path, protected: ProtectedValues) -> None:
    """Read the file at `path` back and raise OutputLeak if it holds a protected value."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dataset, searched = _read_back(path)
            _parse_sequences(dataset)
        except Exception as error:
            raise OutputLeak(f"the written file cannot be read back ({error_kind(error)})") from None
    encodings = _encodings(dataset)
    if searched.count(CHARACTER_SET_TAG[True]) + searched.count(CHARACTER_SET_TAG[False]) > 1:
        # a sequence item declares a character set of its own: its values are in its encodings
        encodings = tuple(dict.fromkeys(encodings + _item_encodings(dataset, 0)))
    generated = kept = None
    for name, needle, kind in _needles(protected):
        strong = kind in STRONG_KINDS
        for encoded in _encoded(needle, encodings):
            if (encoded in searched) if kind == "UI" else _occurs(searched, encoded, kind not in DATE_KINDS):
                generated = "\x00".join(_texts(protected.generated)) if generated is None else generated
                if needle in generated:
                    break   # a value the engine wrote itself (a dummy, the fixed identity)
                kept = _kept_input_texts(protected) if kept is None else kept
                if not strong:
                    # free text the profile removed here, but kept in another attribute of the
                    # input (a description that is also a code meaning): not this attribute's leak
                    if any(_occurs(text, needle) for _vr, text in kept):
                        break
                elif _kept_elsewhere(protected, kind) and _kept_as_often(searched, encoded, needle, kind, kept):
                    break   # a UID kept under Retain UIDs, a date under Retain Full Dates
                raise OutputLeak(f"the written file still holds the original value of {name}; not kept")


CHARACTER_SET_TAG = {True: b"\x08\x00\x05\x00", False: b"\x00\x08\x00\x05"}   # (0008,0005), by byte order


def _item_encodings(dataset, depth: int) -> tuple:
    """The Python codecs of the Specific Character Sets sequence items declare, at every depth."""
    found: list = []
    if depth > 64:
        return ()
    for element in dataset.values():
        value = getattr(element, "value", None)
        if getattr(element, "VR", None) != "SQ" or value is None or isinstance(value, (bytes, bytearray)):
            continue   # (a sequence _parse_sequences left raw holds no item this check decoded)
        for item in value:
            if "SpecificCharacterSet" in item:
                try:
                    found += convert_encodings(item.SpecificCharacterSet)
                except Exception:
                    pass
            found += _item_encodings(item, depth + 1)
    return tuple(found)


WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _occurs(haystack, needle, right: bool = True) -> bool:
    """`needle` in `haystack` as a whole token: not inside a longer word ('MARY' in 'PRIMARY');
    with right=False it may be followed by more (a date that starts a date-time), but not
    follow a dot (a UID kept under Retain UIDs may hold the digits of a date)."""
    return next(_tokens(haystack, needle, right), None) is not None


def _tokens(haystack, needle, right: bool = True):
    """The positions of `needle` in `haystack` as a whole token (see _occurs)."""
    if isinstance(haystack, str):
        haystack, needle = haystack.encode("utf-8", "replace"), needle.encode("utf-8", "replace")
    position = haystack.find(needle)
    while position >= 0:
        end = position + len(needle)
        before = haystack[position - 1] if position else None
        if ((before is None or (before not in WORD and (right or before != 0x2E)) or needle[0] not in WORD)
                and (not right or end == len(haystack) or haystack[end] not in WORD or needle[-1] not in WORD)):
            yield position
        position = haystack.find(needle, position + 1)


def _kept_elsewhere(protected: ProtectedValues, kind: str) -> bool:
    """Whether the profile keeps values of `kind` in other attributes: UIDs under Retain UIDs (a
    referenced instance's UID, the root of the kept UIDs), dates under Retain Full Dates (the
    birth date of a newborn is the study date). The patient's names and identifiers: never."""
    return (kind == "UI" and protected.uids_kept) or (kind in DATE_KINDS and protected.dates_kept)


def _kept_as_often(searched: bytes, encoded: bytes, needle: str, kind: str, kept: list) -> bool:
    """Whether `needle`, found in the output, is there no more often than in the input's kept
    values of its kind (UIDs, or dates; so every occurrence may be theirs): the body after the
    file meta is counted (the meta repeats the data set's SOP UIDs). A value that is also left in
    the removed attribute's own bytes occurs once more than the kept ones and still fails the file."""
    kept = [text for vr, text in kept if (vr == "UI") == (kind == "UI") and vr in ("UI", "DA", "DT")]
    if kind == "UI":
        in_kept = sum(text.count(needle) for text in kept)
        found = searched.count(encoded, _body_start(searched))
    else:
        in_kept = sum(1 for text in kept for _position in _tokens(text, needle, False))
        start = _body_start(searched)
        found = sum(1 for position in _tokens(searched, encoded, False) if position >= start)
    return in_kept > 0 and found <= in_kept


def _body_start(searched: bytes) -> int:
    try:
        return body_offset(searched)
    except Exception:
        return 0


def _kept_input_texts(protected: ProtectedValues) -> list:
    """(VR, text) of the text, UID and date values of the input's elements the engine neither
    removed nor replaced (read again, only when a protected value was found in the output)."""
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
        elif vr in TEXT_VRS or vr in KEPT_VRS:
            texts += [(vr, text) for text in _texts([element.value])]


KEPT_VRS = frozenset({"CS", "PN", "UI", "DA", "DT"})


def _parse_sequences(dataset, depth: int = 0) -> None:
    """Make pydicom parse every sequence, at every depth (the structure of the file); other
    values are not converted: a private one typed differently by pydicom's dictionary in
    implicit VR would fail to convert, yet its bytes are what is searched."""
    if depth > 64:
        raise ValueError("sequences nested too deep")
    for tag, element in list(dataset.items()):   # as stored: raw elements stay raw
        vr = element.VR
        if vr is not None and vr != "SQ" and vr != "UN":
            continue   # the common case, first: a value, not a sequence
        if vr == "SQ" or (vr is None and _dictionary_vr(tag) == "SQ"):
            items = dataset[tag].value
        elif isinstance(element.value, bytes) and element.value[:4] == ITEM:
            # a private sequence in implicit VR (or stored as UN): read as the engine reads it
            items = decode_as(element, "SQ", dataset._character_set, stored_as_un=vr == "UN").value
        else:
            continue
        for item in items or []:
            _parse_sequences(item, depth + 1)


@lru_cache(maxsize=65536)
def _dictionary_vr(tag) -> str:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return ""


def _read_back(path):
    """(data set, bytes to search) as pydicom's reader parses the file: its data set parser
    from the end of the file meta (which this program wrote itself, and which dcmread would
    spend a third of the time on), up to the pixel data, whose value is skipped (burned-in
    text is the pixel stage's concern, and pixel bytes match short strings by chance), then
    whatever follows it. A deflated file is read whole by dcmread and its body inflated."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
        start, transfer_syntax = meta_layout(head)
        if start + 12 > len(head):
            start = None   # the walk may have stopped at the head's end, not the meta's: measured below
        if transfer_syntax == DEFLATED or not transfer_syntax:
            data = head + handle.read()
            dataset = pydicom.dcmread(io.BytesIO(data))
            start = body_offset(data)
            return dataset, data[:start] + (zlib.decompress(data[start:], -zlib.MAX_WBITS)
                                            if transfer_syntax == DEFLATED else data[start:])
        implicit, little = transfer_syntax == IMPLICIT_LITTLE, transfer_syntax != EXPLICIT_BIG
        handle.seek(0)
        front = handle.read(FRONT_READ)   # parsed in memory: faster than through the file object
        if start is None:
            start = body_offset(front)
        source = io.BytesIO(front)
        source.seek(start)
        try:
            dataset = read_dataset(source, implicit, little, stop_when=_at_pixel_data)
            pixel_start = source.tell()
        except Exception:
            if len(front) < FRONT_READ:
                raise
            pixel_start = -1   # cut off where the read ended: read again below
        if len(front) == FRONT_READ and front[pixel_start:pixel_start + 4] != PIXEL_TAG[little]:
            # a header longer than what was read: parsed from the file itself
            handle.seek(start)
            dataset = read_dataset(handle, implicit, little, stop_when=_at_pixel_data)
            pixel_start = handle.tell()
        value_end = _pixel_value_end(handle, pixel_start, implicit, little)
        tail = b""
        if value_end is not None:
            handle.seek(value_end)
            tail = handle.read()
            if tail:   # elements after the pixel data (trailing padding, ...): parsed too
                handle.seek(value_end)
                dataset.update(read_dataset(handle, implicit, little))
        if pixel_start <= len(front):
            return dataset, front[:pixel_start] + tail
        handle.seek(0)
        return dataset, handle.read(pixel_start) + tail


def _at_pixel_data(tag, _vr, _length) -> bool:
    return int.__eq__(tag, PIXEL_DATA)   # pydicom's Tag compares in Python: this runs per element


def _pixel_value_end(handle, position: int, implicit: bool, little: bool):
    """Where the pixel data element starting at `position` ends (None if there is none):
    its defined length, or its fragments up to the sequence delimiter (PS3.5 A.4)."""
    order = "<" if little else ">"
    header = handle.read(12)
    if len(header) < 8 or struct.unpack(order + "HH", header[:4]) != (0x7FE0, 0x0010):
        return None
    if implicit:
        length, value = struct.unpack(order + "I", header[4:8])[0], position + 8
    elif header[4:6] in (b"OB", b"OW", b"OD", b"OF", b"OL", b"OV", b"UN"):
        length, value = struct.unpack(order + "I", header[8:12])[0], position + 12
    else:
        length, value = struct.unpack(order + "H", header[6:8])[0], position + 8
    if length != 0xFFFFFFFF:
        return value + length
    while True:   # fragments: items of defined length, then the sequence delimiter
        handle.seek(value)
        item = handle.read(8)
        if len(item) < 8:
            return value
        group, element, length = struct.unpack(order + "HHI", item)
        value += 8
        if (group, element) == (0xFFFE, 0xE0DD):
            return value
        value += length


def _encodings(dataset) -> tuple:
    """The Python codecs of the output's Specific Character Set, and the default ones."""
    element = dataset.get_item(0x00080005)
    charset = element.value if element is not None else b""
    key = charset if isinstance(charset, (bytes, str)) else tuple(charset)
    found = _CODECS.get(key)
    if found is None:
        try:
            text = dataset.get("SpecificCharacterSet", "")
            codecs = convert_encodings(text or "ISO_IR 6")
        except Exception:
            codecs = ["iso8859"]
        found = _CODECS[key] = tuple(dict.fromkeys(list(codecs) + ["iso8859", "utf-8"]))
    return found


_CODECS: dict = {}


def _encoded(text: str, encodings: tuple) -> set:
    key = (text, encodings)
    found = _ENCODED.get(key)
    if found is None:
        if len(_ENCODED) > CACHE_SIZE:
            _ENCODED.clear()
        found = _ENCODED[key] = _encode(text, encodings)
    return found


def _encode(text: str, encodings: tuple) -> set:
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
    encoding = protected.encoding
    encoding = tuple(encoding) if isinstance(encoding, (list, tuple)) else (encoding,)
    for name, vr, value, private in protected.values:
        for needle, kind in _needles_of(vr, value, private, encoding, protected.dates_kept):
            yield name, needle, kind
    for name, vr, raw in protected.unread:
        for needle, kind in _needles_of(vr, raw, True, encoding, protected.dates_kept):
            yield name, needle, kind


# The files of a series share most values (names, IDs, study UIDs, dates): their search strings
# are derived once per run (bounded caches, cleared when full).
CACHE_SIZE = 20_000
_NEEDLES: dict = {}
_ENCODED: dict = {}


def _needles_of(vr: str, value, private: bool, encoding: tuple, dates_kept: bool) -> tuple:
    key = _cache_key(vr, value, private, encoding, dates_kept)
    found = _NEEDLES.get(key) if key is not None else None
    if found is None:
        found = tuple((needle, text_vr) for text_vr, text in _values(vr, value, list(encoding))
                      for needle in _from_value(text_vr, text, private, dates_kept))
        if key is not None:
            if len(_NEEDLES) > CACHE_SIZE:
                _NEEDLES.clear()
            _NEEDLES[key] = found
    return found


def _cache_key(vr: str, value, private: bool, encoding: tuple, dates_kept: bool):
    """A hashable form of a value as met (raw bytes, or a decoded text value); None for a
    decoded sequence, which is not cached."""
    if hasattr(value, "tag") and hasattr(value, "value"):
        vr = vr or plain_vr(value.VR)
        value = value.value
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value)
    elif isinstance(value, (str, int, float)) or value is None:
        pass
    elif type(value).__name__ in ("PersonName", "MultiValue", "UID", "list", "tuple"):
        if any(hasattr(v, "keys") for v in (value if not isinstance(value, str) and
                                            type(value).__name__ != "PersonName" else [])):
            return None
        value = ("\\".join(_texts([value])), type(value).__name__)
    else:
        return None
    return vr, value, private, encoding, dates_kept


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
    yield from _items_values(int(element.tag), element.value or [], encoding, 0)


def _items_values(tag: int, items, encoding, depth: int):
    """The names, UIDs and dates in a sequence's items, at every depth (not the UIDs of classes
    or coding schemes, which identify nobody and which the engine keeps elsewhere: see
    uids.names_no_instance); in the items of a coded identifier (coded_identifier) also the
    code and its meaning."""
    coded = coded_identifier(tag)
    for index, item in enumerate(items):
        try:
            for inner in item:
                number, vr = int(inner.tag), plain_vr(inner.VR)
                if coded is not None and number in CODE_TAGS:
                    yield from _values(coded[0] if number != CODE_MEANING else coded[1], inner.value, encoding)
                elif vr == "SQ":
                    if depth < 64:
                        yield from _items_values(number, inner.value or [], encoding, depth + 1)
                elif vr in ("PN", "DA", "DT") or (vr == "UI" and not names_no_instance(inner.keyword)):
                    yield from _values(vr, inner.value, encoding)
        except OutputLeak:
            raise   # from an item inside this one: it names its own sequence
        except Exception as error:
            # an item whose values cannot be read cannot be searched: the file is not kept
            # unchecked (the type of the error only: pydicom's text may quote the value)
            name = keyword_for_tag(tag) or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
            raise OutputLeak(f"item {index + 1} of {name} cannot be read to be checked "
                             f"({type(error).__name__}); not kept") from None


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
