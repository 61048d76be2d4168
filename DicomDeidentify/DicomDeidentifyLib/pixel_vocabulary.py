"""Which detected text may stay in a cleaned image: a short vocabulary of clinical annotation, as data.

data/pixel_vocabulary.json lists words that never identify anyone (orientation letters, units,
measurement labels, modality and sequence words) and the shape of a scale number (under four
digits). A region is *explained* (kept) only when it was read with at least the file's
min_confidence, holds at least one word, every word is on the list or a scale number, and the
header judge (pixel_text.IdentifyingText: the file's own names and IDs, dates, ID shapes)
finds nothing identifying in it. Everything else the detector finds is blanked.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BUILT_IN = Path(__file__).parent / "data" / "pixel_vocabulary.json"
_GLUED = re.compile(r"^([-+]?\d{1,3}(?:[.,]\d{1,2})?)([A-Za-z%/²³]+)$")   # "12.5mm" -> "12.5", "mm"


@dataclass(frozen=True)
class Vocabulary:
    """The clinical annotation vocabulary (data/pixel_vocabulary.json or a file of that shape): `words`
    that never identify (upper case), the `number` pattern of a scale value, the characters to `strip`
    from each token, and the `min_confidence` (0-1) a reading needs to be explained (explains)."""
    words: frozenset          # upper case
    number: re.Pattern
    strip: str
    min_confidence: float

    def explains(self, text: str, confidence: float, judge=None) -> bool:
        """Whether a region read as `text` with `confidence` (0-1) may stay: see the module's rule."""
        if confidence < self.min_confidence or (judge is not None and judge.identifies(text)):
            return False
        tokens = [token.strip(self.strip) for token in re.split(r"[\s:=]+", text)]
        tokens = [token for token in tokens if token]
        if not tokens:
            return False
        for token in tokens:
            glued = _GLUED.match(token)
            parts = [glued.group(1), glued.group(2)] if glued else [token]
            if not all(part.upper() in self.words or self.number.match(part) for part in parts):
                return False
        return True


@lru_cache(maxsize=4)
def load_vocabulary(path: str | None = None) -> Vocabulary:
    """The vocabulary file (the built-in one by default). Raises ValueError for a malformed file."""
    source = Path(path) if path else BUILT_IN
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
        words = frozenset(word.upper() for group in document["words"].values() for word in group)
        return Vocabulary(words, re.compile(document["number"]), document.get("strip", ""),
                          float(document["min_confidence"]))
    except (OSError, KeyError, TypeError, AttributeError, re.error, json.JSONDecodeError) as error:
        raise ValueError(f"{source}: not a pixel vocabulary file: {error}") from None
