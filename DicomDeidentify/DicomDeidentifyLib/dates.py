"""Dates and times under the Retain Longitudinal Temporal Information options.

Modified dates move every DA and the date part of every DT of a patient back
by that patient's offset (1 to 365 days): intervals between dates are kept.
Times of day (TM) do not change with a whole-day shift.
"""
from __future__ import annotations

import datetime
import re

_DA = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DT = re.compile(r"^(\d{4})(\d{2})(\d{2})(.*)$")


def shift_date(value: str, days: int) -> str | None:
    """'20240131' shifted back by days, or None if the value is not a full date."""
    match = _DA.match(value.strip())
    if not match:
        return None
    try:
        date = datetime.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None
    return (date - datetime.timedelta(days=days)).strftime("%Y%m%d")


def shift_datetime(value: str, days: int) -> str | None:
    """Shift the date part of a DT, keeping time, fraction and UTC offset; None if no full date."""
    match = _DT.match(value.strip())
    if not match:
        return None
    shifted = shift_date("".join(match.groups()[:3]), days)
    return None if shifted is None else shifted + match.group(4)


def shift_value(vr: str, value: str, days: int) -> str | None:
    if vr == "DA":
        return shift_date(value, days)
    if vr == "DT":
        return shift_datetime(value, days)
    return value  # TM: a whole-day shift leaves the time of day as it was
