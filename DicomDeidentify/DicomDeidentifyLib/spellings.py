"""How an identifying value is spelled in free text, and where it stands: the one matcher of
names, IDs and dates, shared by the DICOM text cleaner (text_cleaner, action C) and the scene
scrubber (SceneScrubberLib.identity_matcher: scrub, check and the panel). Each side gives its
own thresholds (Rules); the spellings are the same.

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

The keys of a value depend on its shape (values may come without their attribute
names, so the shape tells):
  * a person name (DICOM PN, with '^'; or given as `names`): every order of its
    words run together ('DoeJohn', 'John Doe', 'doe-john'), and each word long enough
    on its own, except the side's neutral words (the scrubber's 'Patient', 'Study');
  * a date (YYYYMMDD): found wherever the date recogniser (written_dates) reads a date
    that can be this day: '1970-01-01', '01/01/1970', '1/1/1970', '01.01.70', '1 Jan 1970',
    'Jan 1, 1970', 'January 1st 1970', '19700101', '01011970' and so on (a year or a
    month alone is no match);
  * an ID (holds a digit): with or without separators, and its digits alone when
    they are five or more;
  * a number in text is also read without its leading zeros, so that 'MRN-04815162' and
    '004815162' are Patient ID '4815162' (and '0012345' is ID '0012345', whose significant
    digits are a key too). Only whole numbers (words) are compared: the digits inside a longer
    number never match ('104815162', a UID's '1.2.840.104815162'), nor does the fraction of a
    decimal number ('1.04815162': its zeros are part of its value; a UID component never
    starts with 0, PS3.5 9.1). The ID still needs the side's shortest number of digits once its
    own zeros are dropped (`Rules.min_number`; five for its digits alone), so '007' or '0.5' never
    match an ID;
  * any other text (a description, a user's term): its words in order.
Accents do not matter: text is read folded (Unicode NFKD, combining marks dropped, 'ß' as 'ss'),
so NFD-decomposed text reads as composed text does, and a value is also spelled as people write it
without accents, plainly and with the German transliterations: 'MÜLLER^JÖRG' matches 'Müller Jörg',
'Muller, Jorg' and 'MUELLER JOERG' (`fold`, `transliterated`).
Values that cannot tell identity from chance are left out: keys under the side's
shortest length, numbers under its shortest number unless given as a term, 'yes'/'no'.

Binary data cannot be cut into words cheaply or safely (random bytes spell short
words), so `literal_forms()` gives the long (six or more characters) spellings of
each value to look for in it byte for byte.
"""
from __future__ import annotations

import datetime
import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass

from .written_dates import written_dates

STRONG_KEY = 6         # shortest spelling looked for in binary data
MAX_GAP = 6            # longest separator between two words of a value ("Doe, John", "Doe%20John")
MAX_NAME_WORDS = 4     # words of a person name combined in every order (4! = 24 keys)
REPLACEMENT = "*"

# A word: upper-case run before a capitalised word, a capitalised or lower-case word, an upper-case
# run, digits, or a run of other letters. URL escapes ('%20', '%2520') are separators, not words.
# Ideographs and kana are a word each: CJK text has no spaces between words ('患者王伟').
_WORD = re.compile(r"%(?:25)?[0-9A-Fa-f]{2}|[A-Z]+(?=[A-Z][a-z])|[A-Z]*[a-z]+|[A-Z]+|[0-9]+"
                   "|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
                   r"|[^\W\d_A-Za-z]+")
# A separator inside one value: never a tab or a line break, which part table cells and lines (each
# word of a name is matched on its own there).
_GAP = re.compile(r"(?:[ _\-.^,:;/\\'()]|%(?:25)?[0-9A-Fa-f]{2})*")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


_GERMAN = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"}
_LETTER_RUN = re.compile(r"[^\W\d_]+")


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in "ßẞ":
        return "ss" if char == "ß" else "SS"
    return "".join(part for part in unicodedata.normalize("NFKD", char) if not unicodedata.combining(part))


def fold(text: str) -> str:
    """`text` without accents, as its letters are written plainly (NFKD, combining marks dropped,
    'ß' -> 'ss'): 'Mu\u0308ller Jörg' -> 'Muller Jorg'. ASCII text is returned as it is."""
    return text if text.isascii() else "".join(_fold_char(char) for char in text)


def transliterated(text: str) -> str:
    """`text` with the German transliterations (ä -> ae, ö -> oe, ü -> ue, ß -> ss; upper case in an
    upper-case word: 'MÜLLER' -> 'MUELLER', 'Jörg' -> 'Joerg'), then folded."""
    if text.isascii():
        return text

    def word(match):
        run = match.group(0)
        out = "".join(_GERMAN.get(char.lower(), char) if char.lower() in _GERMAN else char for char in run)
        if run.isupper():
            return out.upper()
        # a capital umlaut starting a word: 'Ärzt' -> 'Aerzt'
        return "".join(_GERMAN[char.lower()].capitalize() if char.lower() in _GERMAN and char.isupper() else
                       _GERMAN.get(char, char) for char in run)
    return fold(_LETTER_RUN.sub(word, unicodedata.normalize("NFC", text)))


def _folded(text: str) -> tuple:
    """(folded text, origin): origin[i] is the index in `text` of the character folded character i
    came from (one more entry: len(text))."""
    pieces, origin = [], []
    for index, char in enumerate(text):
        piece = char if char.isascii() else _fold_char(char)
        pieces.append(piece)
        origin.extend([index] * len(piece))
    origin.append(len(text))
    return "".join(pieces), origin


@dataclass(frozen=True)
class Rules:
    """A side's thresholds. min_key: shortest key matched; min_number: digits a value that is only
    a number needs (unless given as a term); neutral_words: name words never matched alone;
    neutral_value: values that are never identifying (a compiled pattern matched at the start)."""
    min_key: int = 3
    min_number: int = 6
    neutral_words: frozenset = frozenset()
    neutral_value: re.Pattern | None = None


@dataclass(frozen=True)
class Hit:
    """Where an identifying value's spelling was found in a text: `start` and `end` (character offsets,
    end exclusive), the identifying `value` as given, and its `kind` ('name', 'date', 'id' or 'text')."""
    start: int
    end: int
    value: str          # the identifying value (as given) whose spelling stands there
    kind: str = "text"  # 'name', 'date', 'id' or 'text'


def words(text: str) -> list:
    """[(start, end, lower-case word)] of a text (see the module's text); URL escapes are skipped."""
    return [(m.start(), m.end(), m.group(0).lower()) for m in _WORD.finditer(text) if m.group(0)[0] != "%"]


def key_of(text: str) -> str:
    """A value's letters and digits, lower case, run together (its words, as `words` cuts them)."""
    if text.isascii() and "%" not in text:
        return _NOT_ALNUM.sub("", text.lower())   # the same, faster: UIDs and IDs are most values
    return "".join(word for _s, _e, word in words(text))


def kind_of(value: str) -> str:
    """'name' (has '^'), 'date' (a valid YYYYMMDD), 'id' (a digit and no space) or 'text'."""
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


@functools.lru_cache(maxsize=1 << 16)   # scrub, check and the messages ask for the same values
def value_keys(value: str, kind: str | None = None, term: bool = False, rules: Rules = Rules()) -> tuple:
    """(keys matched in text, literal spellings for binary data) of one value; kind 'name', 'date',
    'id', 'text' or None (from the value's shape). `term`: given by the user or known to identify
    (any length from rules.min_key, numbers included). A date's keys are empty: dates are found
    by the recogniser (`date_of`). A value with accents has the keys of its spellings without
    them (`fold`, `transliterated`: text is matched folded) and the literals of all three."""
    value = (value or "").strip()
    if not value.isascii():
        spelled = [_value_keys(variant, kind, term, rules) for variant in {fold(value), transliterated(value)}]
        literals = _value_keys(value, kind, term, rules)[1]
        return (frozenset().union(*(keys for keys, _literals in spelled)),
                literals.union(*(more for _keys, more in spelled)))
    return _value_keys(value, kind, term, rules)


def _value_keys(value: str, kind: str | None, term: bool, rules: Rules) -> tuple:
    value = (value or "").strip()
    if not value or (rules.neutral_value is not None and rules.neutral_value.match(value)):
        return frozenset(), frozenset()
    kind = kind or kind_of(value)
    if kind == "date" and not _date(value):
        kind = "id"   # told it is a date, but no YYYYMMDD day: matched as what it is spelled of
    keys, literals = set(), {value.lower()}
    if kind == "name":
        every = _cjk_runs_joined(words(value.replace("^", " ")))
        keys.add("".join(every))
        literals.add(value.lower().replace("^", " ").strip())
        # numbers in a name ('Doe10^John10' of test data) are no name words: combined, '10'+'10' would
        # be '1010', an id of any scene
        named = [word for word in every if not word.isdigit()]
        parts = named[:MAX_NAME_WORDS]
        for count in range(2, len(parts) + 1):
            for chosen in itertools.permutations(parts, count):
                keys.add("".join(chosen))
                if count == len(parts) or set(chosen) == set(parts[:2]):
                    literals |= {separator.join(chosen) for separator in (" ", "_", "", "^", ", ", "-")}
        keys |= {part for part in named if long_enough(part, rules.min_key) and part not in rules.neutral_words}
        # the given name's initial run into the family name, as user names and file names write it
        # ('jsmith', 'JSmith', 'J. Smith'; the initials alone, 'JS', would match too much)
        groups = value.split("=")[0].split("^")
        family = [word for _s, _e, word in words(groups[0]) if word.isalpha()]
        given = [word for _s, _e, word in words(groups[1])] if len(groups) > 1 else []
        if family and given and given[0][0].isalpha() and len("".join(family)) >= rules.min_key and \
                "".join(family) not in rules.neutral_words:
            keys.add(given[0][0] + "".join(family))
    elif kind == "date":
        literals |= _date_literals(value)
    else:
        key = key_of(value)
        if not term and (key.isdigit() and len(key) < rules.min_number or key in {"yes", "no"}):
            return frozenset(), frozenset()
        keys.add(key)
        literals.add(key)
        digits = re.sub(r"\D", "", key)
        if kind == "id" and digits != key and len(digits) >= 5:
            keys.add(digits)
            literals.add(digits)
        significant = digits.lstrip("0")   # '0012345' is written '12345' by programs that read it as a number
        if kind == "id" and significant != digits and len(significant) >= 5:
            keys.add(significant)
            literals.add(significant)
    keys = {key for key in keys if long_enough(key, rules.min_key)}
    literals = {literal for literal in literals if len(literal) >= STRONG_KEY}
    return frozenset(keys), frozenset(literals)


# Ideographs, kana and hangul (CJK): one character is about a syllable, and names are short ('王伟',
# '太郎', '민준'): a key of these alone is long enough at two characters.
CJK_MIN_KEY = 2
_CJK = re.compile("[\u1100-\u11ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
                  "\U00020000-\U0003134f]+")


def _cjk_runs_joined(found: list) -> list:
    """The words of a name, each run of ideographs or kana one word again ('山田^太郎' -> 山田, 太郎:
    `words` cuts CJK text into characters, to find names in text without spaces)."""
    out, last_end = [], None
    for start, end, word in found:
        if out and start == last_end and _CJK.fullmatch(word) and _CJK.fullmatch(out[-1]):
            out[-1] += word
        else:
            out.append(word)
        last_end = end
    return out


def long_enough(key: str, min_key: int) -> bool:
    """Whether a key is long enough to match: `min_key` characters, or CJK_MIN_KEY when it is all
    ideographs, kana or hangul (a two-character Chinese or Japanese name part, '王伟' of 王^伟)."""
    if len(key) >= min_key:
        return True
    return len(key) >= min(min_key, CJK_MIN_KEY) and bool(_CJK.fullmatch(key))


def _date_literals(value: str) -> set:
    """Spellings of a DICOM date to look for in binary data."""
    date = _date(value)
    yyyy, mm, dd = f"{date.year:04d}", f"{date.month:02d}", f"{date.day:02d}"
    return {value, f"{yyyy}-{mm}-{dd}", f"{dd}/{mm}/{yyyy}", f"{mm}/{dd}/{yyyy}", f"{dd}.{mm}.{yyyy}"}


class SpellingMatcher:
    """Where identifying values stand in text (see the module's text).

    values: identifying values (kinds from their shape); terms: values known to identify whatever
    their length (a user's terms; any length from rules.min_key, numbers included); names: values
    known to be person names."""

    def __init__(self, values=(), terms=(), names=(), rules: Rules = Rules()):
        self._keys: dict = {}        # key -> (value it came from, kind)
        self._literals: dict = {}    # lower-case spelling -> value, for binary data
        self._dates: dict = {}       # (year, month, day) and (None, two-digit year, month, day) -> value
        for value, kind, term in ([(v, None, False) for v in values] + [(t, None, True) for t in terms]
                                  + [(n, "name", False) for n in names]):
            stripped = (value or "").strip()
            kind = kind or (kind_of(stripped) if stripped else "text")
            keys, literals = value_keys(value, kind, term, rules)
            if kind == "date" and literals:
                date = _date(stripped)   # looked up as a reading gives it: four-digit year, or two
                self._dates.setdefault((date.year, date.month, date.day), value)
                self._dates.setdefault((None, date.year % 100, date.month, date.day), value)
            for key in keys:
                self._keys.setdefault(key, (value, kind))
            for literal in literals:
                self._literals.setdefault(literal, value)
        self._prefixes = {key[:length] for key in self._keys for length in range(1, len(key) + 1)}

    def __bool__(self) -> bool:
        return bool(self._keys or self._dates)

    @property
    def values(self) -> set:
        """The values (and terms) that have at least one spelling: what this matcher can find."""
        return {value for value, _kind in self._keys.values()} | set(self._dates.values())

    def hits(self, text: str) -> list:
        """Non-overlapping Hits in `text`, left to right, the longest spelling at each place."""
        if not text or not self:
            return []
        if not self._keys:
            found = []
        elif text.isascii():
            found = self._word_hits(text)
        else:   # read without accents (value_keys spells values so), hits placed back on `text`
            folded, origin = _folded(text)
            found = [Hit(origin[hit.start], _end_in(text, origin, hit.end), hit.value, hit.kind)
                     for hit in self._word_hits(folded)]
        if self._dates:
            dated = self._date_hits(text)
            if dated:
                found = _without_overlaps(found + dated)
        return found

    def _date_hits(self, text: str) -> list:
        out = []
        dates = self._dates
        for written in written_dates(text):
            for reading in written.readings:
                if not reading.is_day:
                    continue
                value = dates.get((reading.year, reading.month, reading.day) if reading.year is not None
                                  else (None, reading.year2, reading.month, reading.day))
                if value is not None:
                    out.append(Hit(written.start, written.end, value, "date"))
                    break
        return out

    def _word_hits(self, text: str) -> list:
        found, position, prefixes = [], -1, self._prefixes
        for match in _WORD.finditer(text):
            start = match.start()
            word = match.group(0).lower()
            if start < position or word[0] == "%":
                continue
            best = self._longest(text, start, match.end(), word) if word in prefixes else None
            if word[0] == "0":   # a number padded with zeros is the same number ('04815162' of ID 4815162)
                bare = _bare_number(text, start, word)
                if bare and bare in prefixes:
                    other = self._longest(text, start, match.end(), bare)
                    if other is not None and (best is None or other.end > best.end):
                        best = other
            if best is not None:
                found.append(best)
                position = best.end
        return found

    def _longest(self, text: str, start: int, end: int, spelled: str):
        """The longest Hit starting at `start` whose first word, ending at `end`, reads `spelled`."""
        prefixes, keys, best = self._prefixes, self._keys, None
        while True:
            if spelled in keys:
                best = Hit(start, end, *keys[spelled])
            gap = _GAP.match(text, end)
            if gap.end() - end > MAX_GAP:
                break
            following = _WORD.match(text, gap.end())
            if following is None or following.group(0)[0] == "%":
                break
            word = following.group(0).lower()
            if word[0] == "0" and spelled[-1].isalpha() and spelled + word not in prefixes:
                word = _bare_number(text, following.start(), word) or word   # 'MRN-0481...' of MRN-481...
            spelled += word
            if spelled not in prefixes:
                break
            end = following.end()
        return best

    def search(self, text: str):
        """The first Hit in `text`, or None."""
        found = self.hits(text)
        return found[0] if found else None

    def found_in(self, text: str) -> bool:
        """Whether any spelling of any value stands in `text`."""
        return bool(self.hits(text))

    def redact(self, text: str, replacement: str = REPLACEMENT, by_word: frozenset = frozenset()) -> str:
        """`text` with every spelling of every value replaced; a hit of a kind in `by_word` has
        each of its words replaced, separators kept ('Jane Doe' -> '* *')."""
        found = self.hits(text)
        if not found:
            return text
        pieces, last = [], 0
        for hit in found:
            spelled = text[hit.start:hit.end]
            pieces += [text[last:hit.start],
                       _RUN.sub(replacement, spelled) if hit.kind in by_word else replacement]
            last = hit.end
        return "".join(pieces) + text[last:]

    def literal_forms(self) -> dict:
        """{lower-case UTF-8 spelling: value} of six or more characters, to find in binary data."""
        return {literal.encode("utf-8"): value for literal, value in self._literals.items()}


def _bare_number(text: str, start: int, word: str) -> str | None:
    """A number word of `text` (at `start`) without its leading zeros, as programs that read an ID as
    a number write it ('04815162' -> '4815162'); None when it is no number, is all zeros, or is the
    fraction of a decimal number ('1.0481': its zeros are part of its value)."""
    if not word.isdigit() or (start >= 2 and text[start - 1] in ".," and text[start - 2].isdigit()):
        return None
    return word.lstrip("0") or None


def _end_in(text: str, origin: list, end: int) -> int:
    """Where a hit ending at `end` of the folded text ends in `text`: after the character it came
    from and any combining marks that follow it."""
    position = origin[end - 1] + 1
    while position < len(text) and not text[position].isascii() and not _fold_char(text[position]):
        position += 1
    return position


# a run of letters and digits, with the combining marks of NFD text: one word of a name as written
_RUN = re.compile("[^\\W_](?:[^\\W_]|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f])*")


def _without_overlaps(hits: list) -> list:
    """Hits left to right, none overlapping: where they overlap, the longest."""
    out: list = []
    for hit in sorted(hits, key=lambda h: (h.start - h.end, h.start)):
        if all(hit.end <= kept.start or hit.start >= kept.end for kept in out):
            out.append(hit)
    return sorted(out, key=lambda h: h.start)
