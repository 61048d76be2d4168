"""Text in pixels: find it with OCR (Tesseract), decide which boxes identify someone.

A box is masked when its text line holds an identifying value of the file's own header
(names in any letter case, IDs, birth date, staff and institution names; a misread letter
or two tolerated), or anything shaped like a date, a time next to a date, or an ID (a
token with four or more digits). The whole line is masked, since a name spreads over words.
Tesseract is Debian's `tesseract-ocr` with its English data, read in this process through
tesserocr (libtesseract's API, PyPI wheel, MIT) where installed, else run as a program through
pytesseract; without the program, OCR is unavailable and the caller holds or refuses the file
instead of passing it.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import threading
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
    """One word or line Tesseract read: rectangle in frame pixels (`x`, `y` top left, `width`, `height`),
    its `text` and Tesseract's `confidence` (0-100)."""
    x: int
    y: int
    width: int
    height: int
    text: str
    confidence: float = 100.0   # Tesseract's, 0-100


class OcrUnavailable(Exception):
    """Tesseract (or its Python binding) is not installed."""


def ocr_available() -> bool:
    """Whether Tesseract can run: the pytesseract module is installed and the `tesseract` program is on PATH."""
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


def find_text_lines(grey: np.ndarray) -> list:
    """[(line text, [TextBox of each word])] that Tesseract reads. Tesseract reads dark text on a light
    ground best and tries inverted lines itself: a mostly dark image (ultrasound) is inverted first."""
    if not ocr_available():
        raise OcrUnavailable("Tesseract OCR is not installed (Debian: tesseract-ocr; Python: pytesseract)")
    import pytesseract
    from PIL import Image
    # One OpenMP thread per Tesseract: with more, on two shared cores, it takes twice as long.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    scale = 2 if grey.shape[0] < UPSCALE_BELOW_ROWS else 1
    image = Image.fromarray(255 - grey if np.median(grey) < 128 else grey)
    if scale > 1:
        image = image.resize((grey.shape[1] * scale, grey.shape[0] * scale), Image.LANCZOS)
    image.format = "BMP"   # handed to tesseract uncompressed: pytesseract would spend 30 ms on PNG
    api = _tesseract_api()
    if api is not None:
        return _read_in_process(api, image, scale)
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


_api = None
_api_owner = 0   # the process that made it: a forked worker makes its own
_api_lock = threading.Lock()


def _tessdata() -> str:
    """The folder of Tesseract's language data: TESSDATA_PREFIX, else where the tesseract program
    says it is (Debian: /usr/share/tesseract-ocr/5/tessdata)."""
    if os.environ.get("TESSDATA_PREFIX"):
        return os.environ["TESSDATA_PREFIX"]
    listed = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30)
    found = re.search(r'"([^"]+)"', listed.stdout + listed.stderr)
    return found.group(1) if found else ""


def _tesseract_api():
    """Tesseract in this process (tesserocr, libtesseract's API) with English and --psm 11, made once
    per process, or None without tesserocr (then pytesseract runs the program). Started as a
    program, Tesseract spends 0.15-0.2 CPU-seconds loading before it reads anything: more than
    reading a 512x512 frame."""
    global _api, _api_owner
    if importlib.util.find_spec("tesserocr") is None:
        return None
    with _api_lock:
        if _api is None or _api_owner != os.getpid():
            import tesserocr
            _api = tesserocr.PyTessBaseAPI(path=_tessdata(), lang="eng", psm=tesserocr.PSM.SPARSE_TEXT)
            _api_owner = os.getpid()
        return _api


def _read_in_process(api, image, scale: int) -> list:
    """find_text_lines' answer from libtesseract: words at or above MIN_CONFIDENCE, by text line."""
    from tesserocr import RIL, iterate_level
    lines, line = {}, -1
    with _api_lock:
        api.SetImage(image)
        api.Recognize()
        iterator = api.GetIterator()
        words = []
        if iterator is not None:
            for word in iterate_level(iterator, RIL.WORD):
                if word.IsAtBeginningOf(RIL.TEXTLINE):
                    line += 1
                try:   # tesserocr raises for an element with no text (an empty page, a lone picture)
                    words.append((line, word.GetUTF8Text(RIL.WORD) or "", word.Confidence(RIL.WORD),
                                  word.BoundingBox(RIL.WORD)))
                except RuntimeError:
                    continue
        api.Clear()
    for line, text, confidence, box in words:
        if not text.strip() or box is None or float(confidence) < MIN_CONFIDENCE:
            continue
        left, top, right, bottom = box
        lines.setdefault(line, []).append(TextBox(left // scale, top // scale, -(-(right - left) // scale),
                                                  -(-(bottom - top) // scale), text.strip(), float(confidence)))
    return [(" ".join(box.text for box in boxes), boxes) for boxes in lines.values()]


class IdentifyingText:
    """Judges OCR text against the header's identifying values and date/ID shapes."""

    def __init__(self, cleaner: TextCleaner, terms: list):
        self.cleaner = cleaner
        self.terms = [t.lower() for t in terms if len(t) >= 3]

    @classmethod
    def from_dataset(cls, dataset) -> "IdentifyingText":
        """A judge for the identifying values of `dataset` (its original header: names, IDs, dates; see
        text_cleaner.identifying_terms)."""
        cleaner = TextCleaner.from_dataset(dataset)
        return cls(cleaner, cleaner.terms)

    def identifies(self, line: str) -> bool:
        """Whether an OCR `line` identifies someone: the TextCleaner changes it (one of the file's
        identifying values in any spelling it knows, a date, a number of 5 or more digits), or a token
        holds 4 or more digits, or a token is at least 80 % similar (difflib ratio) to a term of 3 or
        more characters, or a time of day stands beside a date-like number."""
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
