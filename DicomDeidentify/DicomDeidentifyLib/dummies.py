"""Dummy values (action D): valid for the VR, non-empty, identifying nobody."""
from __future__ import annotations

DUMMY_TEXT = "ANONYMIZED"
_BY_VR = {
    "AE": "ANONYMIZED", "AS": "000D", "CS": "ANONYMIZED", "DA": "19000101", "DS": "0",
    "DT": "19000101000000", "IS": "0", "LO": DUMMY_TEXT, "LT": DUMMY_TEXT, "PN": "ANONYMIZED",
    "SH": DUMMY_TEXT, "ST": DUMMY_TEXT, "TM": "000000", "UC": DUMMY_TEXT, "UR": "",
    "UT": DUMMY_TEXT, "FL": 0.0, "FD": 0.0, "SL": 0, "SS": 0, "UL": 0, "US": 0, "SV": 0, "UV": 0,
    "AT": 0, "OB": b"\x00\x00", "OD": b"\x00" * 8, "OF": b"\x00" * 4, "OL": b"\x00" * 4,
    "OV": b"\x00" * 8, "OW": b"\x00\x00", "UN": b"\x00\x00",
}
TEXT_VRS = {"LO", "LT", "SH", "ST", "UC", "UT"}
DATE_TIME_VRS = {"DA", "DT", "TM"}


def dummy_for(vr: str):
    return _BY_VR.get(vr, DUMMY_TEXT)
