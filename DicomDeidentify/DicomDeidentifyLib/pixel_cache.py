"""Clean Pixel Data's results kept for the next run: the same input is not read again (issue 12, point 7).

Detection and reading cost far more than anything else a file needs; a run repeated on the
same inputs (a run stopped and started again, a profile changed elsewhere) gets the same
answer. So pixel_cleaner keeps, per cleaned image, what it decided: the rectangles blanked,
the regions kept and those left unexplained, whether the check proved the image clean, the
frames read and the second reader that ran. A later image whose entry matches is blanked at
the same rectangles with the same fill, without running the detector or Tesseract: its
output is byte for byte what the first run wrote.

An entry matches only when everything the decision depends on is the same (`fingerprint`):
the decoded pixels (SHA-256 of their bytes, shape and type), the identifying values the
judge looks for (the file's own header), the region rules that apply, the vocabulary, the
detector's and Tesseract's versions and which second reader runs, and the source of the
pixel modules (their thresholds and rules are code). Entries are named by a keyed hash
(HMAC-SHA256 with the run's key, keyed_hash): a name says nothing without the key.

Where: `<key folder>/pixel_cache/`, beside the linkage store, the reports and held/, made
owner-only (0700 folders, 0600 files, keys.make_private_dir), never in a destination. An entry
holds what was read in each region (the key holders' report shows it, as on the first run):
identifying text, kept only there, and only by runs that keep originals (runs.deidentify_folder
passes no cache with linkage off: --no-linkage records no original value anywhere). Delete the folder to forget every entry; a damaged entry
is ignored and written again.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
from functools import lru_cache
from pathlib import Path

from .keys import make_private_dir

CACHE_FOLDER_NAME = "pixel_cache"
FORMAT = 1   # of an entry; another format is never read
_MODULES = ("pixel_cleaner.py", "pixel_detector.py", "pixel_text.py", "pixel_vocabulary.py", "pixel_io.py",
            "pixel_cache.py", "text_cleaner.py")


def cache_folder(key_file) -> Path:
    """<folder of the key>/pixel_cache."""
    return Path(key_file).parent / CACHE_FOLDER_NAME


@lru_cache(maxsize=1)
def _code_and_versions() -> str:
    """What the decisions depend on besides the file: the pixel modules' source, the vocabulary
    file, the detector's and Tesseract's versions, the second reader. Computed once per process."""
    from .pixel_detector import detector_version, second_reader_name
    from .pixel_text import ocr_available
    from .pixel_vocabulary import BUILT_IN
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in _MODULES:
        digest.update((here / name).read_bytes())
    digest.update(BUILT_IN.read_bytes())
    tesseract = ""
    if ocr_available():
        try:
            import pytesseract
            tesseract = str(pytesseract.get_tesseract_version())
            if importlib.util.find_spec("tesserocr") is not None:   # the library that reads in process
                import tesserocr
                tesseract += " / " + tesserocr.tesseract_version().splitlines()[0]
        except Exception:   # a version that cannot be told: no entry may match another's
            tesseract = "unknown"
    return json.dumps([FORMAT, digest.hexdigest(), detector_version(), tesseract, second_reader_name()])


def fingerprint(frames, judge, rule_regions, vocabulary) -> str:
    """Everything a cleaning's outcome depends on, as one string (identifying values inside:
    only its keyed hash is ever stored). frames: the decoded pixels (frames, rows, columns[, 3])."""
    pixels = hashlib.sha256(memoryview(frames.tobytes())).hexdigest()
    terms = sorted(set(judge.cleaner.terms) | set(judge.terms))
    return json.dumps([_code_and_versions(), pixels, list(frames.shape), str(frames.dtype), terms,
                       [[name, list(region)] for name, region in rule_regions],
                       sorted(vocabulary.words), vocabulary.number.pattern, vocabulary.strip,
                       vocabulary.min_confidence])


class PixelCache:
    """Entries in `folder` (pixel_cache beside the key), named with `hasher` (keyed_hash.KeyedHasher)."""

    def __init__(self, folder, hasher):
        self.folder = Path(folder)
        self.hasher = hasher
        self.hits = 0      # entries used by this process
        self.misses = 0

    def name(self, fingerprint_text: str) -> str:
        """The entry's file name for a cleaning's fingerprint text (fingerprint()): 64 hex digits of its
        keyed hash, so the cache's names reveal nothing of the pixels or the terms searched."""
        return self.hasher.digest("pixel cache", fingerprint_text).hex()

    def _path(self, name: str) -> Path:
        return self.folder / name[:2] / f"{name}.json"

    def load(self, name: str) -> dict | None:
        """The entry's outcome (see pixel_cleaner.outcome_entry), or None: none, damaged, another format."""
        try:
            entry = json.loads(self._path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.misses += 1
            return None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("name") != name:
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def save(self, name: str, entry: dict) -> None:
        """Write an entry owner-only and atomically (workers may write at the same time: each its
        own temporary file, then one rename). A cache that cannot be written is only logged."""
        path = self._path(name)
        try:
            make_private_dir(path.parent)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                json.dump({**entry, "format": FORMAT, "name": name}, stream)
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        except (OSError, ValueError) as error:   # ValueError: keys.UnsafeFolderError
            logging.getLogger(__name__).warning("the pixel cache could not be written (%s)", type(error).__name__)
