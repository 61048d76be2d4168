"""Dates as people and scanners write them in free text: where they stand and which days they can be.

The one recogniser of written dates, used by the DICOM text cleaner (every date in free text goes,
PS3.15 E.3.5 Clean Descriptors) and by the scene scrubber's identity matcher (a date that is the
patient's birth date goes). Forms recognised (any letter case; English, German and French month
names and their abbreviations, with or without a dot):
  * with a month name, separated by spaces, '-', '.', '/', ',', '_', an apostrophe or nothing:
    '23 Sep 1999', '23-SEP-99', '23rd of September 1999', 'Sep 23, 1999', 'September 23rd 1999',
    '1999-Sep-23', '23Sep1999'; year and month alone ('Sep1999', 'Sep 99', "Sep '99", '1999 Sep');
    day and month alone ('23 Sep', 'Sep 23rd');
  * in digits, year first, day first or month first, with '-', '.', '/', '_' or a space (the same
    one twice) or none: '1999-09-23', '23.09.1999', '09/23/1999', '23/9/99', '19990923', '23091999',
    '230999' (a space only next to a four-digit year: '1 2 34' is a list of numbers); year and
    month alone ('1999-09', '09/1999', '199909'; with a dot the month has two digits: '09.1999',
    while '1.2019' is a decimal).
A span is a date when at least one reading of it is a day of the calendar (months 1 to 12, days
that exist). Not dates: a year alone, day/month in digits without a year ('1/2'), numbers inside
UIDs and decimals ('1.2.840.10008.5.1.4', '0.5.10'), and words that merely begin like a month
('Marseille', 'septum', 'decay').
"""
from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass

# Month names and abbreviations, English, German and French (accented and plain spellings).
_MONTH_NAMES = {
    1: ("january", "jan", "januar", "janvier", "janv"),
    2: ("february", "feb", "februar", "février", "fevrier", "févr", "fevr", "fév", "fev"),
    3: ("march", "mar", "märz", "maerz", "mrz", "mär", "mars"),
    4: ("april", "apr", "avril", "avr"),
    5: ("may", "mai"),
    6: ("june", "jun", "juni", "juin"),
    7: ("july", "jul", "juli", "juillet", "juil"),
    8: ("august", "aug", "août", "aout"),
    9: ("september", "sept", "sep", "septembre"),
    10: ("october", "oct", "oktober", "okt", "octobre"),
    11: ("november", "nov", "novembre"),
    12: ("december", "dec", "dezember", "dez", "décembre", "decembre", "déc"),
}
_MONTH_OF = {name: month for month, names in _MONTH_NAMES.items() for name in names}
_MONTH = "(?i:" + "|".join(sorted(map(re.escape, _MONTH_OF), key=len, reverse=True)) + r")\.?"

_LETTER = r"[^\W\d_]"
# A month name starts a word (or a capitalised word after lower case: 'brainSep1999') and ends one.
_MONTH_START = rf"(?:(?<!{_LETTER})|(?<=[a-z])(?=[A-Z]))"
_MONTH_END = rf"(?!{_LETTER})"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_ORDINAL = r"(?i:st|nd|rd|th)?"
_YEAR4 = r"(?:1[89]|20)\d{2}"
_YEAR = rf"(?:{_YEAR4}|'?\d{{2}})"
_GAP = r"[ \-./,_']{0,3}"             # between the parts of a date with a month name ("Sep., 1999")
_GAP1 = r"[ \-./,_']{1,3}"
_OF = r"(?i:of )?"
# Digits of a date never continue a number, a decimal or a UID ('1.2.840.10008.5.1.4').
_NUM_START = r"(?<!\d)(?<!\d\.)"
_NUM_END = r"(?!\d)(?!\.\d)"

# Forms with a month name. They are tried only where a month name stands (_MONTH_NAMES_LOWER finds
# them in the lower-cased text: one case-insensitive scan of 60 names costs ten times more), at the
# name or at a number just before it.
_MONTH_FORMS = [
    ("dmy", re.compile(rf"{_NUM_START}(?P<d>{_DAY}){_ORDINAL}{_GAP}{_OF}(?P<mon>{_MONTH}){_GAP}(?P<y>{_YEAR}){_NUM_END}")),
    # 'Sep 23, 1999', 'Sep231999'; a year of two digits needs a separator ('Sep1999' is no 'Sep 19 99')
    ("mdy", re.compile(rf"{_MONTH_START}(?P<mon>{_MONTH}){_GAP}(?P<d>{_DAY}){_ORDINAL}"
                       rf"(?:{_GAP1}(?P<y>{_YEAR})|(?P<y4>{_YEAR4})){_NUM_END}")),
    ("ymd", re.compile(rf"{_NUM_START}(?P<y>{_YEAR4}){_GAP}(?P<mon>{_MONTH}){_GAP}(?P<d>{_DAY}){_ORDINAL}{_NUM_END}")),
    ("my", re.compile(rf"{_MONTH_START}(?P<mon>{_MONTH}){_GAP}(?P<y>{_YEAR}){_NUM_END}")),
    ("ym", re.compile(rf"{_NUM_START}(?P<y>{_YEAR4}){_GAP}(?P<mon>{_MONTH}){_MONTH_END}")),
    ("dm", re.compile(rf"{_NUM_START}(?P<d>{_DAY}){_ORDINAL}{_GAP}{_OF}(?P<mon>{_MONTH}){_MONTH_END}")),
    ("md", re.compile(rf"{_MONTH_START}(?P<mon>{_MONTH}){_GAP}(?P<d>{_DAY}){_ORDINAL}{_NUM_END}")),
]
_MONTH_NAMES_LOWER = re.compile("|".join(sorted(map(re.escape, _MONTH_OF), key=len, reverse=True)))
_MONTH_NAMES_ANY_CASE = re.compile(_MONTH)
_BEFORE_MONTH = 12   # day, ordinal, separators and 'of ' ('23rd of '), or a year and separators
# Forms in digits. Each starts with a digit and checks what stands before it after that digit
# ('\d(?<!\d\d)': no digit before), so that the scan can skip to digits.
_FIRST = r"\d(?<!\d\d)(?<!\d\.\d)"
_FIRST_YEAR4 = r"(?:1(?<!\d1)(?<!\d\.1)[89]|2(?<!\d2)(?<!\d\.2)0)\d{2}"
_DIGIT_FORMS = [
    # three parts with the same separator twice
    ("numeric", re.compile(rf"(?P<a>{_FIRST}\d{{0,3}})(?P<s>[-./_ ])(?P<b>\d{{1,2}})(?P=s)(?P<c>\d{{2}}|\d{{4}}){_NUM_END}")),
    ("digits", re.compile(rf"(?P<n>{_FIRST}(?:\d{{7}}|\d{{5}})){_NUM_END}")),
    # year first with a one-digit day ('1970/1/1', '1970-01-1'; with '-' or '/' only: '2019.1.2' is a version)
    ("ymd_unpadded", re.compile(rf"(?P<y>{_FIRST_YEAR4})(?P<s>[-/])(?P<m>\d{{1,2}})(?P=s)(?P<d>\d){_NUM_END}")),
    # year and month ('1999-09', '9/1999'; a month out of 1 to 12 is no reading; with a dot the month has
    # two digits: '1.2019' is a decimal)
    ("ym_numeric", re.compile(rf"(?P<y>{_FIRST_YEAR4})(?:[-/_](?P<m>\d{{1,2}})|\.(?P<m2>\d{{2}})){_NUM_END}(?![-./_]\d)")),
    ("my_numeric", re.compile(rf"(?P<m>{_FIRST}\d?)(?:[-/_]|(?<=\d\d)\.)(?P<y>{_YEAR4}){_NUM_END}(?![-./_]\d)")),
]
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Reading:
    """One way to read a written date: year (four digits, or None), two-digit year (or None),
    month, day (or None: year and month alone)."""
    year: int | None
    year2: int | None
    month: int
    day: int | None

    @property
    def is_day(self) -> bool:
        """A whole day with a year: what can equal a known date."""
        return self.day is not None and (self.year is not None or self.year2 is not None)

    def is_date(self, date: datetime.date) -> bool:
        """Whether this reading can be `date` (a two-digit year as its last two digits)."""
        return (self.is_day and self.month == date.month and self.day == date.day
                and (self.year == date.year if self.year is not None else self.year2 == date.year % 100))


@dataclass(frozen=True)
class WrittenDate:
    """A written date found in a text: `start` and `end` (character offsets, end exclusive) and its
    possible `readings` (Reading: year or two-digit year, month, day or None), each a valid date
    (months 1 to 12, days that exist)."""
    start: int
    end: int
    readings: tuple   # of Reading


def _valid(year, month, day) -> bool:
    if not 1 <= month <= 12:
        return False
    if day is None:
        return True
    return 1 <= day <= calendar.monthrange(year if year else 2000, month)[1]


def _reading(year: str | None, month: int, day: int | None):
    """A Reading from the year's digits (four, two, "'99", or None for no year), or None if no day."""
    four = two = None
    if year:
        year = year.lstrip("'")
        if len(year) == 4:
            four = int(year)
        else:
            two = int(year)
    if four is None and two is None and day is None:
        return None
    leap_check = four if four is not None else (2000 + two if two is not None else 2000)
    return Reading(four, two, month, day) if _valid(leap_check, month, day) else None


def _numeric_readings(a: str, b: str, c: str) -> list:
    """Readings of a-b-c: year first (a of four digits, or all three of two), day first, month first."""
    out = []
    if len(a) == 4 or (len(a) == 2 and len(b) == 2 and len(c) == 2):
        if len(c) <= 2 and (len(a) == 2 or re.fullmatch(_YEAR4, a)):
            out.append(_reading(a, int(b), int(c)))
    if len(a) <= 2 and (len(c) == 2 or re.fullmatch(_YEAR4, c)):
        out.append(_reading(c, int(b), int(a)))   # day first
        out.append(_reading(c, int(a), int(b)))   # month first
    return out


def _digit_readings(n: str) -> list:
    if len(n) == 8:
        candidates = [(n[:4], n[4:6], n[6:]), (n[4:], n[2:4], n[:2]), (n[4:], n[:2], n[2:4])]
        candidates = [(y, m, d) for y, m, d in candidates if re.fullmatch(_YEAR4, y)]
        return [_reading(y, int(m), int(d)) for y, m, d in candidates]
    out = [_reading(n[:2], int(n[2:4]), int(n[4:])), _reading(n[4:], int(n[2:4]), int(n[:2])),
           _reading(n[4:], int(n[:2]), int(n[2:4]))]
    if re.fullmatch(_YEAR4, n[:4]):
        out.append(_reading(n[:4], int(n[4:]), None))   # '199909': year and month
    return out


def _readings(form: str, match) -> list:
    groups = match.groupdict()
    if form == "numeric":
        if groups["s"] == " " and 4 not in (len(groups["a"]), len(groups["c"])):
            return []   # '1 2 34' with spaces is a list of numbers; '04 03 1965' a date
        return _numeric_readings(groups["a"], groups["b"], groups["c"])
    if form == "digits":
        return _digit_readings(groups["n"])
    if form == "ymd_unpadded":
        return [_reading(groups["y"], int(groups["m"]), int(groups["d"]))]
    if form in ("ym_numeric", "my_numeric"):
        return [_reading(groups["y"], int(groups["m"] or groups.get("m2")), None)]
    month = _MONTH_OF[groups["mon"].rstrip(".").lower()]
    day = int(groups["d"]) if groups.get("d") else None
    year = groups.get("y") or groups.get("y4")
    if form == "md":
        return [_reading(None, month, day)]
    return [_reading(year, month, day)]   # 'Mar 12' is also read as the twelfth of March (form md)


def _month_form_starts(text: str) -> set:
    """Where a form with a month name can start: at a month name, or at a number shortly before one."""
    lower = text.lower()
    names = _MONTH_NAMES_LOWER.finditer(lower) if len(lower) == len(text) else _MONTH_NAMES_ANY_CASE.finditer(text)
    starts = set()
    for name in names:
        at = name.start()
        starts.add(at)
        for before in range(max(0, at - _BEFORE_MONTH), at):
            if text[before].isdigit() and (before == 0 or not text[before - 1].isdigit()):
                starts.add(before)
    return starts


def written_dates(text: str) -> list:
    """[WrittenDate] in `text`, left to right, not overlapping (the longest where forms overlap).
    Linear in the text (a fixed set of regular expressions); a text without a digit has none."""
    if not text or not _DIGIT.search(text):
        return []
    spans: dict = {}

    def add(form, match):
        readings = [r for r in _readings(form, match) if r is not None]
        if readings:
            spans.setdefault(match.span(), set()).update(readings)

    for form, pattern in _DIGIT_FORMS:
        for match in pattern.finditer(text):
            add(form, match)
    for start in _month_form_starts(text):
        for form, pattern in _MONTH_FORMS:
            match = pattern.match(text, start)
            if match:
                add(form, match)
    chosen: list = []
    for (start, end) in sorted(spans, key=lambda span: (span[0] - span[1], span[0])):
        if all(end <= s or start >= e for s, e in chosen):
            chosen.append((start, end))
    return [WrittenDate(s, e, tuple(sorted(spans[(s, e)], key=repr))) for s, e in sorted(chosen)]


def redact_dates(text: str, replacement: str = "*") -> str:
    """`text` with every written date replaced by `replacement`."""
    found = written_dates(text)
    if not found:
        return text
    pieces, last = [], 0
    for date in found:
        pieces += [text[last:date.start], replacement]
        last = date.end
    return "".join(pieces) + text[last:]
