"""One matcher for identifying values, as people and scanners write them: used by scrub, check and the panel.

A value is matched in any letter case and with any separator between its words
(space, '_', '-', '.', '^', ',', ':', ';', '/', '\\', "'", parentheses, URL escapes
such as '%20', or none at all; not a tab or a line break), and only on word boundaries: 'Doe' matches in
'DOE_JOHN_chest', 'JaneDoe' and 'Doe%20John', not in 'Does' or 'Doerr'. How:
text is cut into words (runs of letters or digits, also cut where lower case turns
upper, 'JohnDoe' -> John, Doe, and where letters and digits meet, 'MRN12345' ->
MRN, 12345); every value is reduced to keys (its letters and digits, lower case,
run together); a key matches where consecutive words, separated only by short
separators, spell it. Each word is looked up once per key length it can start, in
a set of key prefixes, so the time is linear in the text.

The keys of a value depend on its shape (the scene's values come without their
attribute names, so the shape tells):
  * a person name (DICOM PN, with '^'; or given as `names`): every order of its
    words run together ('DoeJohn', 'John Doe', 'doe-john'), and each word of
    three or more letters on its own, except words the scrubber itself writes
    (NEUTRAL_WORDS: 'Patient', 'Study', ...), so that 'Test^Patient' never flags
    'Patient 1';
  * a date (YYYYMMDD): also as 1970-01-01, 01/01/1970, 1/1/1970, 01.01.70,
    1 Jan 1970, Jan 1, 1970, January 1st 1970 and so on (day first or month first;
    written with digits only, at least six of them: '1/1/70' is any number '1170');
  * an ID (holds a digit): with or without separators, and its digits alone when
    they are five or more;
  * any other text (a study description, a user's term): its words in order.
Values that cannot tell identity from chance are left out: keys under three
characters, a number of fewer than six digits unless the user gave it as a term,
'yes'/'no', and the scrubber's own neutral names ('Patient 1', 'Study 2').

Binary data cannot be cut into words cheaply or safely (random bytes spell short
words), so `literal_forms()` gives the long (six or more characters) spellings of
each value to look for in it byte for byte.
"""
from __future__ import annotations

import calendar
import datetime
import functools
import itertools
import re
from dataclasses import dataclass

MIN_KEY = 3            # shortest key matched ("--term takes any term of three or more characters")
MIN_NUMBER = 6         # a scene value that is only a number needs this many digits (counts, sizes, times)
STRONG_KEY = 6         # shortest spelling looked for in binary data
MAX_GAP = 6            # longest separator between two words of a value ("Doe, John", "Doe%20John")
MAX_NAME_WORDS = 4     # words of a person name combined in every order (4! = 24 keys)
REPLACEMENT = "*"
# Words the scrubber writes itself (neutral names, folders): never flagged on their own.
NEUTRAL_WORDS = frozenset({
    "patient", "study", "series", "volume", "scene", "data", "private", "segment", "segmentation", "model",
    "markups", "table", "text", "transform", "color", "node", "anonymous", "anon", "unknown", "test",
    "mrs", "phd", "iii", "jr", "sr",
})
NEUTRAL_NAME = re.compile(r"^(Patient|Study|Series) \d+$")

# A word: upper-case run before a capitalised word, a capitalised or lower-case word, an upper-case
# run, digits, or a run of other letters. URL escapes ('%20', '%2520') are separators, not words.
_WORD = re.compile(r"%(?:25)?[0-9A-Fa-f]{2}|[A-Z]+(?=[A-Z][a-z])|[A-Z]*[a-z]+|[A-Z]+|[0-9]+|[^\W\d_A-Za-z]+")
# A separator inside one value: never a tab or a line break, which part table cells and lines (each
# word of a name is matched on its own there).
_GAP = re.compile(r"(?:[ _\-.^,:;/\\'()]|%(?:25)?[0-9A-Fa-f]{2})*")
_MONTHS = [(calendar.month_name[m].lower(), calendar.month_abbr[m].lower()) for m in range(1, 13)]


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    value: str      # the identifying value (as given) whose spelling stands there


def is_neutral_name(name: str) -> bool:
    """Whether a name is one the scrubber gives ('Patient 1', 'Study 3')."""
    return bool(NEUTRAL_NAME.match(name or ""))


def words(text: str) -> list:
    """[(start, end, lower-case word)] of a text (see the module's text); URL escapes are skipped."""
    return [(m.start(), m.end(), m.group(0).lower()) for m in _WORD.finditer(text) if m.group(0)[0] != "%"]


_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def _key(text: str) -> str:
    """A value's letters and digits, lower case, run together (its words, as `words` cuts them)."""
    if text.isascii() and "%" not in text:
        return _NOT_ALNUM.sub("", text.lower())   # the same, faster: UIDs and IDs are most values
    return "".join(word for _s, _e, word in words(text))


@functools.lru_cache(maxsize=1 << 16)   # scrub, check and the messages ask for the same values
def value_keys(value: str, kind: str | None = None, term: bool = False) -> tuple:
    """(keys matched in text, literal spellings for binary data) of one value; kind 'name', 'date',
    'id', 'text' or None (from the value's shape). `term`: given by the user (any 3+ characters)."""
    value = (value or "").strip()
    if not value or is_neutral_name(value):
        return frozenset(), frozenset()
    kind = kind or _kind(value)
    keys, literals = set(), {value.lower()}
    if kind == "name":
        every = [word for _s, _e, word in words(value.replace("^", " "))]
        keys.add("".join(every))
        literals.add(value.lower().replace("^", " ").strip())
        # numbers in a name ('Doe10^John10' of test data) are no name words: combined, '10'+'10' would
        # be '1010', an id of any scene
        parts = [word for word in every if not word.isdigit()][:MAX_NAME_WORDS]
        for count in range(2, len(parts) + 1):
            for chosen in itertools.permutations(parts, count):
                keys.add("".join(chosen))
                if count == len(parts) or set(chosen) == set(parts[:2]):
                    literals |= {separator.join(chosen) for separator in (" ", "_", "", "^", ", ", "-")}
        keys |= {part for part in parts if len(part) >= MIN_KEY and part not in NEUTRAL_WORDS and not part.isdigit()}
    elif kind == "date":
        date_keys, date_literals = _date_forms(value)
        keys |= date_keys
        literals |= date_literals
    else:
        key = _key(value)
        if not term and (key.isdigit() and len(key) < MIN_NUMBER or key in {"yes", "no"}):
            return frozenset(), frozenset()
        keys.add(key)
        literals.add(key)
        digits = re.sub(r"\D", "", key)
        if kind == "id" and digits != key and len(digits) >= 5:
            keys.add(digits)
            literals.add(digits)
    keys = {key for key in keys if len(key) >= (MIN_NUMBER if kind == "date" and key.isdigit() else MIN_KEY)}
    literals = {literal for literal in literals if len(literal) >= STRONG_KEY}
    return frozenset(keys), frozenset(literals)


def _kind(value: str) -> str:
    if "^" in value:
        return "name"
    if re.fullmatch(r"\d{8}", value) and _date(value):
        return "date"
    if re.search(r"\d", value) and not re.search(r"\s", value.strip()):
        return "id"
    return "text"


def _date(value: str):
    try:
        return datetime.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None


def _date_forms(value: str) -> tuple:
    """Keys and literals of a DICOM date in the usual written formats."""
    date = _date(value)
    yyyy, yy = f"{date.year:04d}", f"{date.year % 100:02d}"
    days, months = {f"{date.day:02d}", str(date.day)}, {f"{date.month:02d}", str(date.month)}
    keys = {yyyy + f"{date.month:02d}{date.day:02d}"}
    for day, month in itertools.product(days, months):
        for year in (yyyy, yy):
            keys |= {day + month + year, month + day + year}
        keys.add(yyyy + month + day)
    long_name, short_name = _MONTHS[date.month - 1]
    for name in {long_name, short_name, short_name + "t" if short_name == "sep" else short_name}:
        for day in days | {str(date.day) + _ordinal(date.day)}:
            for year in (yyyy, yy):
                keys |= {day + name + year, name + day + year}
            keys |= {yyyy + name + day}
    literals = {value, f"{yyyy}-{date.month:02d}-{date.day:02d}", f"{date.day:02d}/{date.month:02d}/{yyyy}",
                f"{date.month:02d}/{date.day:02d}/{yyyy}", f"{date.day:02d}.{date.month:02d}.{yyyy}"}
    return keys, literals


def _ordinal(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _with_pieces(values) -> list:
    """Each value, and the pieces of a multi-valued one: DICOM's '\\' between values ('Doe^John\\Roe^Jane'),
    or spaces between UIDs ('1.2.840.99.3 1.2.840.99.4', Slicer's DICOM.instanceUIDs), so that each is
    also found alone."""
    out = []
    for value in values:
        out.append(value)
        pieces = [piece for piece in re.split(r"\\", value or "") if piece.strip()]
        if len(pieces) == 1:
            pieces = (value or "").split()
            if len(pieces) < 2 or not all(re.fullmatch(r"[0-9.]+", piece) for piece in pieces):
                continue
        out += pieces
    return out


class IdentityMatcher:
    """Where identifying values stand in text (see the module's text).

    values: the identifying values a scene holds (kinds from their shape); terms: the user's own
    terms (any 3+ characters, numbers included); names: values known to be person names."""

    def __init__(self, values=(), terms=(), names=()):
        self._keys: dict = {}        # key -> value it came from
        self._literals: dict = {}    # lower-case spelling -> value, for binary data
        for value, kind, term in ([(v, None, False) for v in _with_pieces(values)] + [(t, None, True) for t in terms]
                                  + [(n, "name", False) for n in _with_pieces(names)]):
            keys, literals = value_keys(value, kind, term)
            for key in keys:
                self._keys.setdefault(key, value)
            for literal in literals:
                self._literals.setdefault(literal, value)
        self._prefixes = {key[:length] for key in self._keys for length in range(1, len(key) + 1)}
        self._longest = max((len(key) for key in self._keys), default=0)

    def __bool__(self) -> bool:
        return bool(self._keys)

    @property
    def values(self) -> set:
        """The values (and terms) that have at least one key: what this matcher can find."""
        return set(self._keys.values())

    def hits(self, text: str) -> list:
        """Non-overlapping Hits in `text`, left to right, the longest spelling at each place."""
        if not self._keys or not text:
            return []
        found, position, prefixes, keys = [], -1, self._prefixes, self._keys
        for match in _WORD.finditer(text):
            start = match.start()
            word = match.group(0).lower()
            if start < position or word not in prefixes or word[0] == "%":
                continue   # the common case: one lookup per word of the text
            spelled, best, end = word, None, match.end()
            while True:
                if spelled in keys:
                    best = Hit(start, end, keys[spelled])
                gap = _GAP.match(text, end)
                if gap.end() - end > MAX_GAP:
                    break
                following = _WORD.match(text, gap.end())
                if following is None or following.group(0)[0] == "%":
                    break
                spelled += following.group(0).lower()
                if spelled not in prefixes:
                    break
                end = following.end()
            if best is not None:
                found.append(best)
                position = best.end
        return found

    def search(self, text: str):
        """The first Hit in `text`, or None."""
        found = self.hits(text)
        return found[0] if found else None

    def found_in(self, text: str) -> bool:
        """Whether any spelling of any value stands in `text`."""
        return bool(self.hits(text))

    def redact(self, text: str, replacement: str = REPLACEMENT) -> str:
        """`text` with every spelling of every value replaced."""
        found = self.hits(text)
        if not found:
            return text
        pieces, last = [], 0
        for hit in found:
            pieces += [text[last:hit.start], replacement]
            last = hit.end
        return "".join(pieces) + text[last:]

    def masked(self, text: str) -> str:
        """`text` with each spelling masked as `masked` does (for messages and logs)."""
        found = self.hits(text)
        pieces, last = [], 0
        for hit in found:
            pieces += [text[last:hit.start], masked(text[hit.start:hit.end], with_length=False)]
            last = hit.end
        return "".join(pieces) + text[last:]

    def literal_forms(self) -> dict:
        """{lower-case UTF-8 spelling: value} of six or more characters, to find in binary data."""
        return {literal.encode("utf-8"): value for literal, value in self._literals.items()}


_MATCHERS: dict = {}


def matcher_for(values=(), terms=(), names=()) -> IdentityMatcher:
    """An IdentityMatcher, the same one for the same values (scrub, its plan and its check ask for
    the same; building one for 10,000 items takes a good part of a second)."""
    key = (frozenset(values), frozenset(terms), frozenset(names))
    if key not in _MATCHERS:
        if len(_MATCHERS) >= 8:
            _MATCHERS.pop(next(iter(_MATCHERS)))
        _MATCHERS[key] = IdentityMatcher(*key)
    return _MATCHERS[key]


def masked(term: str, with_length: bool = True) -> str:
    """Enough to recognise a value one knows, not enough to learn it from a log: 'D******n (8 characters)'."""
    if len(term) <= 2:
        return "**"
    shown = f"{term[0]}{'*' * (len(term) - 2)}{term[-1]}"
    return f"{shown} ({len(term)} characters)" if with_length else shown
