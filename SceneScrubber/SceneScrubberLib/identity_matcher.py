"""The scene's matcher of identifying values, as people and scanners write them: used by scrub, check and the panel.

The spellings (any case, order and separator of a name's words; IDs with and without
separators; dates in the usual written forms) are DicomDeidentifyLib.spellings, the same
rules the DICOM side's text cleaner uses; see that module's text. This module gives the
scene's thresholds and exceptions:
  * keys of three or more characters ("--term takes any term of three or more characters");
  * a scene value that is only a number needs six digits (counts, sizes, times), unless the
    user gave it as a term;
  * words the scrubber writes itself (NEUTRAL_WORDS: 'Patient', 'Study', ...) are never a
    name's word on its own, so that 'Test^Patient' never flags 'Patient 1'; the scrubber's own
    neutral names ('Patient 1', 'Study 2') are never values;
  * a multi-valued value is also found piece by piece (`_with_pieces`).
"""
from __future__ import annotations

import re

from DicomDeidentifyLib.spellings import (MAX_GAP, MAX_NAME_WORDS, REPLACEMENT, STRONG_KEY, Hit, Rules,  # noqa: F401
                                          SpellingMatcher, words)
from DicomDeidentifyLib.spellings import value_keys as _value_keys

MIN_KEY = 3            # shortest key matched ("--term takes any term of three or more characters")
MIN_NUMBER = 6         # a scene value that is only a number needs this many digits (counts, sizes, times)
# Words the scrubber writes itself (neutral names, folders): never flagged on their own.
NEUTRAL_WORDS = frozenset({
    "patient", "study", "series", "volume", "scene", "data", "private", "segment", "segmentation", "model",
    "markups", "table", "text", "transform", "color", "node", "anonymous", "anon", "unknown", "test",
    "mrs", "phd", "iii", "jr", "sr",
})
NEUTRAL_NAME = re.compile(r"^(Patient|Study|Series) \d+$")
SCENE_RULES = Rules(min_key=MIN_KEY, min_number=MIN_NUMBER, neutral_words=NEUTRAL_WORDS, neutral_value=NEUTRAL_NAME)


def is_neutral_name(name: str) -> bool:
    """Whether a name is one the scrubber gives ('Patient 1', 'Study 3')."""
    return bool(NEUTRAL_NAME.match(name or ""))


def value_keys(value: str, kind: str | None = None, term: bool = False) -> tuple:
    """(keys matched in text, literal spellings for binary data) of one value under the scene's rules;
    kind 'name', 'date', 'id', 'text' or None (from the value's shape). `term`: given by the user."""
    return _value_keys(value, kind, term, SCENE_RULES)


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


class IdentityMatcher(SpellingMatcher):
    """Where identifying values stand in text (DicomDeidentifyLib.spellings, under the scene's rules).

    values: the identifying values a scene holds (kinds from their shape); terms: the user's own
    terms (any 3+ characters, numbers included); names: values known to be person names."""

    def __init__(self, values=(), terms=(), names=()):
        super().__init__(_with_pieces(values), terms, _with_pieces(names), SCENE_RULES)

    def masked(self, text: str) -> str:
        """`text` with each spelling masked as `masked` does (for messages and logs)."""
        found = self.hits(text)
        pieces, last = [], 0
        for hit in found:
            pieces += [text[last:hit.start], masked(text[hit.start:hit.end], with_length=False)]
            last = hit.end
        return "".join(pieces) + text[last:]


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
