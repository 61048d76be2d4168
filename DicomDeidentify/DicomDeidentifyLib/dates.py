"""Dates and times under the Retain Longitudinal Temporal Information options.

Modified dates move every DA and the date part of every DT of a patient back
by that patient's offset (1 to 365 days): intervals between dates are kept.
Times of day (TM, and the time of a DT) do not change with a whole-day shift.

Values of reduced precision (PS3.5 6.2: a DT may leave out components from the
right, '2017', '201708', '2017080112'; some writers do so in DA too) keep their
precision: the middle of the period the value names is shifted and written back
at the value's precision. So '201708' moves to the month most of August's days
move to, and '2017' stays 2017 for offsets under half a year and becomes 2016
beyond. A DT's hours, minutes, seconds, fraction and UTC offset are kept as written.
"""
from __future__ import annotations

import calendar
import datetime
import re

# PS3.5 Table 6.2-1, DT: YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&ZZXX]; DA read the same way up to the day.
_DT = re.compile(r"^(\d{4})(?:(\d{2})(?:(\d{2})(\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$")
_DA = re.compile(r"^(\d{4})(?:(\d{2})(\d{2})?)?$")


def _shifted(year: str, month: str | None, day: str | None, days: int) -> str | None:
    """YYYY[MM[DD]] moved back by `days`, at the same precision; None if no such date."""
    try:
        y = int(year)
        if month is None:
            first, last = datetime.date(y, 1, 1), datetime.date(y, 12, 31)
        elif day is None:
            m = int(month)
            first, last = datetime.date(y, m, 1), datetime.date(y, m, calendar.monthrange(y, m)[1])
        else:
            first = last = datetime.date(y, int(month), int(day))
        middle = first + (last - first) // 2
        moved = middle - datetime.timedelta(days=days)
    except (ValueError, OverflowError):   # month 13, 30 February, year 0
        return None
    text = f"{moved.year:04d}{moved.month:02d}{moved.day:02d}"
    return text[:4] if month is None else text[:6] if day is None else text


def shift_date(value: str, days: int) -> str | None:
    """A DA ('20240131', also '202401' or '2024') moved back by `days` at its precision, or None
    if the value is no date."""
    match = _DA.match(value.strip())
    return None if not match else _shifted(*match.groups(), days)


def shift_datetime(value: str, days: int) -> str | None:
    """A DT of any precision PS3.5 allows with its date part moved back by `days` (at the date's
    precision); time, fraction and UTC offset kept. None if the value is no DT."""
    match = _DT.match(value.strip())
    if not match:
        return None
    year, month, day, time, offset = match.groups()
    shifted = _shifted(year, month, day, days)
    return None if shifted is None else shifted + (time or "") + (offset or "")


def shift_value(vr: str, value: str, days: int) -> str | None:
    """One value of a DA, DT or TM element shifted by `days` (see the module's text); None if it
    cannot be (it is then emptied and reported by the engine)."""
    if vr == "DA":
        return shift_date(value, days)
    if vr == "DT":
        return shift_datetime(value, days)
    return value  # TM: a whole-day shift leaves the time of day as it was
