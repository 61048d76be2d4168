"""Dummy values (action D): valid for the VR, non-empty, identifying nobody (PS3.15 E.1:
"a non-zero length value that may be a dummy value and consistent with the VR"; the VRs'
forms are PS3.5 Table 6.2-1). A UI under D gets a new UID from the engine, not this one.
"""
from __future__ import annotations

from functools import lru_cache

from pydicom.datadict import keyword_for_tag

DUMMY_TEXT = "ANONYMIZED"
# A URI that names nothing: the nil UUID as a URN (RFC 4122 4.1.7, RFC 3986 syntax).
DUMMY_URI = "urn:uuid:00000000-0000-0000-0000-000000000000"
_BY_VR = {
    "AE": "ANONYMIZED", "AS": "000D", "CS": "ANONYMIZED", "DA": "19000101", "DS": "0",
    "DT": "19000101000000", "IS": "0", "LO": DUMMY_TEXT, "LT": DUMMY_TEXT, "PN": "ANONYMIZED",
    "SH": DUMMY_TEXT, "ST": DUMMY_TEXT, "TM": "000000", "UC": DUMMY_TEXT, "UR": DUMMY_URI,
    "UT": DUMMY_TEXT, "FL": 0.0, "FD": 0.0, "SL": 0, "SS": 0, "UL": 0, "US": 0, "SV": 0, "UV": 0,
    "AT": 0, "OB": b"\x00\x00", "OD": b"\x00" * 8, "OF": b"\x00" * 4, "OL": b"\x00" * 4,
    "OV": b"\x00" * 8, "OW": b"\x00\x00", "UN": b"\x00\x00", "UI": "2.25.0",
}
TEXT_VRS = {"LO", "LT", "SH", "ST", "UC", "UT"}
# The dummy item of a code sequence under D (Person Identification Code Sequence, Institution
# Code Sequence): a valid Code Sequence Macro item (PS3.3 Table 8.8-1: Code Value, Coding Scheme
# Designator, Code Meaning) in a private coding scheme ('99' prefix, PS3.16 8), naming no one.
CODE_VALUE, CODING_SCHEME_DESIGNATOR, CODE_MEANING = 0x00080100, 0x00080102, 0x00080104
DUMMY_CODE = ((CODE_VALUE, "SH", "ANONYMIZED"), (CODING_SCHEME_DESIGNATOR, "SH", "99ANONYMIZED"),
              (CODE_MEANING, "LO", "ANONYMIZED"))
DATE_TIME_VRS = {"DA", "DT", "TM"}


@lru_cache(maxsize=4096)
def is_code_sequence(tag: int) -> bool:
    """Whether the items of a public sequence are Code Sequence Macro items (PS3.3 8.8): the
    standard names every such attribute '... Code Sequence' (retired trial ones '... Code
    Sequence (Trial)'). Under action D the engine gives such a sequence DUMMY_CODE's item."""
    return keyword_for_tag(tag).removesuffix("Trial").endswith("CodeSequence")


def dummy_for(vr: str):
    """The dummy value of a VR (str, number or bytes as pydicom holds it); DUMMY_TEXT for a VR
    not listed (a sequence's items are the engine's: see engine._sequence_action)."""
    return _BY_VR.get(vr, DUMMY_TEXT)
