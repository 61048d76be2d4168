"""Text in pixels: find it with OCR (Tesseract), decide which boxes identify someone.

A box is masked when its text line holds an identifying value of the file's own header
(names in any letter case, IDs, birth date, staff and institution names; a misread letter
or two tolerated), or anything shaped like a date, a time next to a date, or an ID (a
token with four or more digits). The whole line is masked, since a name spreads over words.
Tesseract is Debian's `tesseract-ocr`, reached through pytesseract; without it, OCR is
unavailable and the caller holds or refuses the file instead of passing it.
"""
from __future__ import annotations

import importlib.util
import re
import shutil
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from .text_cleaner import TextCleaner

MIN_CONFIDENCE = 30
SIMILARITY = 0.8
_DIGITS = re.compile(r"\d")
_TIME = re.compile(r"\b\d{1,2}:\d{2}(:\d{2})?\b")
UPSCALE_BELOW_ROWS = 512   # small images are enlarged: Tesseract misses text under ~10 pixels high


@dataclass(frozen=True)
class TextBox:
    x: int
    y: int
    width: int
    height: int
    text: str
    confidence: float = 100.0   # Tesseract's, 0-100


class OcrUnavailable(Exception):
    """Tesseract (or its Python binding) is not installed."""


def ocr_available() -> bool:
    return importlib.util.find_spec("pytesseract") is not None and shutil.which("tesseract") is not None


def to_grey8(frame: np.ndarray) -> np.ndarray:
    """A frame as 8-bit grey for OCR: colour by luminance, any bit depth stretched to 0-255."""
    if frame.ndim == 3:
        frame = frame[..., 0] * 0.299 + frame[..., 1] * 0.587 + frame[..., 2] * 0.114
    frame = frame.astype(np.float64)
    low, high = float(frame.min()), float(frame.max())
    if high <= low:
        return np.zeros(frame.shape, np.uint8)
    return ((frame - low) * (255.0 / (high - low))).astype(np.uint8)


def find_text_lines(grey: np.ndarray, rows: int = 0) -> list:
    """[(line text, [TextBox of each word])] that Tesseract reads. Tesseract reads dark text on a light
    ground best and tries inverted lines itself: a mostly dark image (ultrasound) is inverted first.
    `rows`: the rows of the frame `grey` comes from, when it is pieces of one (pixel_detector's
    neighbourhoods): small frames are enlarged, by their own size, not the pieces'."""
    if not ocr_available():
        raise OcrUnavailable("Tesseract OCR is not installed (Debian: tesseract-ocr; Python: pytesseract)")
    import os
    import pytesseract
    from PIL import Image
    # One OpenMP thread per Tesseract: with more, on two shared cores, it takes twice as long.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    scale = 2 if (rows or grey.shape[0]) < UPSCALE_BELOW_ROWS else 1
    image = Image.fromarray(255 - grey if np.median(grey) < 128 else grey)
    if scale > 1:
        image = image.resize((grey.shape[1] * scale, grey.shape[0] * scale), Image.LANCZOS)
    image.format = "BMP"   # handed to tesseract uncompressed: pytesseract would spend 30 ms on PNG
    data = pytesseract.image_to_data(image, output_type=pytesseract.Output.DICT, config="--psm 11")
    lines = {}
    for index, word in enumerate(data["text"]):
        if not word.strip() or float(data["conf"][index]) < MIN_CONFIDENCE:
            continue
        key = (data["block_num"][index], data["par_num"][index], data["line_num"][index])
        lines.setdefault(key, []).append(TextBox(
            data["left"][index] // scale, data["top"][index] // scale,
            -(-data["width"][index] // scale), -(-data["height"][index] // scale), word.strip(),
            float(data["conf"][index])))
    return [(" ".join(box.text for box in boxes), boxes) for boxes in lines.values()]


class IdentifyingText:
    """Judges OCR text against the header's identifying values and date/ID shapes."""

    def __init__(self, cleaner: TextCleaner, terms: list):
        self.cleaner = cleaner
        self.terms = [t.lower() for t in terms if len(t) >= 3]

    @classmethod
    def from_dataset(cls, dataset) -> "IdentifyingText":
        cleaner = TextCleaner.from_dataset(dataset)
        return cls(cleaner, cleaner.terms)

    def identifies(self, line: str) -> bool:
        if self.cleaner.clean(line) != line:
            return True
        for token in re.split(r"[\s,;^]+", line):
            bare = token.strip(".:()[]").lower()
            if len(_DIGITS.findall(bare)) >= 4:
                return True
            if len(bare) >= 3 and any(SequenceMatcher(None, bare, term).ratio() >= SIMILARITY for term in self.terms):
                return True
        return bool(_TIME.search(line)) and bool(re.search(r"\d{2,4}[-./]\d{1,2}", line))


def identifying_boxes(grey: np.ndarray, judge: IdentifyingText) -> list:
    """[(TextBox covering a whole line, line text)] of every line that identifies someone."""
    found = []
    for text, boxes in find_text_lines(grey):
        if judge.identifies(text):
            left, top = min(b.x for b in boxes), min(b.y for b in boxes)
            right, bottom = max(b.x + b.width for b in boxes), max(b.y + b.height for b in boxes)
            found.append((TextBox(left, top, right - left, bottom - top, text), text))
    return found
