"""Text regions in pixels: found by a text detector, read by two different readers.

The detector is RapidOCR (PyPI `rapidocr-onnxruntime`, Apache-2.0): PaddleOCR's PP-OCRv4
detection (DB, a segmentation network that finds text over anatomy, light or dark, grey or
colour, small or large) and recognition models, shipped inside its wheel and run on the CPU
by onnxruntime; nothing is downloaded at run time. Every region it detects is returned,
whatever the recognition confidence (RapidOCR drops low-scoring lines by default: here
`text_score=0`), because a region that is found but misread is still text to blank.

The second reader, for the check after blanking, is Tesseract (Debian's tesseract-ocr through
pytesseract, pixel_text.find_text_lines), a different engine with different failure modes. It
reads the neighbourhoods of what the detector found and what was blanked (second_reading's
`near`), all of them in one image and one Tesseract run: read on a whole 512x512 frame it
cost 0.35-0.4 CPU-seconds, more than detection, blanking and the detector's check together,
and over tissue it read only 27 of the benchmark's 72 planted lines the detector found.
Where Tesseract is not installed (inside Slicer), the second reading is the detector again on
a differently prepared image (enlarged twice, inverted, contrast from the 1st-99th
percentiles), and the report says which second reader ran.

Speed (issue 12 point 7): one detector per process, its onnxruntime sessions created once
(use_threads sets their threads before: one per worker when several workers share the cores);
no angle classifier (rotations are 0 degrees); recognition only on the detected lines; frames
of 512 pixels or more are detected at their own size (enlarged to 736, as RapidOCR does by
default, a 512x512 frame cost four times as much and found the same lines).

RapidOCR's own requirements name the GUI build of OpenCV (`opencv-python`); inside Slicer
its Qt plugins clash with Slicer's Qt, so the project installs `opencv-python-headless`
and RapidOCR with --no-deps (setup.sh, Resources' requirements).
"""
from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass

import numpy as np

from .pixel_text import OcrUnavailable, find_text_lines, ocr_available, to_grey8

DETECTOR = "rapidocr-onnxruntime (PP-OCRv4)"
BOX_THRESHOLD = 0.5        # DB's box score: a region's mean text probability (RapidOCR's default)
UNCLIP_RATIO = 1.6         # how far DB grows a region's kernel to the text's outline (default)
DETECTION_SIDE = 512       # the detector enlarges a frame until its shorter side is this (RapidOCR: 736)...
MAX_ENLARGEMENT = 4        # ...but never more than 4 times: a 64-pixel MR enlarged 11 times shows
                           # "text" in anatomy, while real text even 6 pixels high is 24 at 4 times

NEAR_ROWS, NEAR_COLUMNS = 1.0, 4.0   # the second reader reads this many line heights above/below, beside
NEAR_MINIMUM = 12          # ...and at least this many pixels
MOSAIC_GAP = 24            # rows between two neighbourhoods in the second reader's image

_engine = None
_threads = 0               # onnxruntime's threads per session: 0 = its default (one per core)
_lock = threading.Lock()
_calls = {"detector": 0, "second_reader": 0}


def calls() -> dict:
    """How many times this process ran the detector and the second reader: {"detector": n,
    "second_reader": n} (a copy). Instrumentation: the result cache is tested by it."""
    return dict(_calls)


def use_threads(threads: int) -> None:
    """Threads per onnxruntime session for the detector this process creates (1 in each worker of
    a pool: two workers with a thread per core each would contend for two cores). Only before the
    detector is first used; later calls change nothing."""
    global _threads
    _threads = max(0, int(threads))


@dataclass(frozen=True)
class TextRegion:
    """A detected text line: its bounding rectangle in frame pixels, what was read, how sure (0-1)."""
    x: int
    y: int
    width: int
    height: int
    text: str
    confidence: float
    reader: str = "detector"


def detector_available() -> bool:
    return all(importlib.util.find_spec(name) is not None
               for name in ("rapidocr_onnxruntime", "onnxruntime", "cv2", "pyclipper", "shapely"))


def detector_version() -> str:
    from importlib.metadata import version
    try:
        return f"rapidocr-onnxruntime {version('rapidocr-onnxruntime')}, onnxruntime {version('onnxruntime')}"
    except Exception:
        return "rapidocr-onnxruntime (version unknown)"


def _rapidocr():
    global _engine
    with _lock:
        if _engine is None:
            if not detector_available():
                raise OcrUnavailable("the text detector is not installed (pip: rapidocr-onnxruntime with "
                                     "opencv-python-headless, onnxruntime, pyclipper, shapely)")
            import logging
            from rapidocr_onnxruntime import RapidOCR
            # The sessions are created here, once per process; the angle classifier is never run.
            _engine = RapidOCR(**({"intra_op_num_threads": _threads, "inter_op_num_threads": 1} if _threads else {}))
            logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        return _engine


def detector_image(frame: np.ndarray) -> np.ndarray:
    """A decoded frame as the detector sees it: 8 bits, grey (rows, columns) or colour (rows,
    columns, 3) kept in colour (yellow text on grey speckle stands out in colour, less in grey)."""
    if frame.ndim == 2:
        return to_grey8(frame)
    if frame.dtype == np.uint8:
        return frame
    low, high = float(frame.min()), float(frame.max())
    return ((frame.astype(np.float64) - low) * (255.0 / max(1.0, high - low))).astype(np.uint8)


def detect_text(image: np.ndarray, scale: float = 1.0, read: bool = True) -> list:
    """[TextRegion] of every text line the detector finds in an 8-bit frame, grey (rows, columns)
    or RGB (rows, columns, 3) (see detector_image), with what the recogniser reads in it. `scale`
    enlarges the frame first (coordinates are given back in the frame's own pixels). With
    read=False the regions are only found, not read (text "", confidence 0): faster. Raises
    OcrUnavailable without the detector."""
    engine = _rapidocr()
    _calls["detector"] += 1
    grey = image
    if scale != 1.0:
        import cv2
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    rgb = np.ascontiguousarray(image if image.ndim == 3 else np.repeat(image[..., np.newaxis], 3, axis=2))
    engine.text_det.limit_side_len = int(min(DETECTION_SIDE, MAX_ENLARGEMENT * min(image.shape[:2])))
    result, _elapsed = engine(rgb, use_cls=False, use_rec=read, text_score=0.0, box_thresh=BOX_THRESHOLD,
                              unclip_ratio=UNCLIP_RATIO)
    if not read:
        result = [(points, "", 0.0) for points in result or []]
    regions = []
    rows, columns = grey.shape[:2]
    for points, text, score in result or []:
        xs = [p[0] / scale for p in points]
        ys = [p[1] / scale for p in points]
        left, top = max(0, int(np.floor(min(xs)))), max(0, int(np.floor(min(ys))))
        right, bottom = min(columns, int(np.ceil(max(xs)))), min(rows, int(np.ceil(max(ys))))
        if right > left and bottom > top:
            regions.append(TextRegion(left, top, right - left, bottom - top, str(text).strip(), float(score)))
    return regions


def second_reader_name() -> str:
    return "tesseract, near the detected and blanked regions" if ocr_available() else "detector, enlarged and inverted"


def neighbourhoods(regions, rows: int, columns: int) -> list:
    """[(left, top, right, bottom)]: each region (anything with x, y, width, height) grown by
    NEAR_ROWS of its height above and below and NEAR_COLUMNS beside (at least NEAR_MINIMUM
    pixels), clipped to the frame; overlapping ones merged. Frame pixels."""
    boxes = []
    for r in regions:
        grow_y = max(NEAR_MINIMUM, round(NEAR_ROWS * r.height))
        grow_x = max(NEAR_MINIMUM, round(NEAR_COLUMNS * r.height))
        box = (max(0, r.x - grow_x), max(0, r.y - grow_y), min(columns, r.x + r.width + grow_x),
               min(rows, r.y + r.height + grow_y))
        if box[2] > box[0] and box[3] > box[1]:
            boxes.append(box)
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    boxes[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return sorted(boxes, key=lambda box: (box[1], box[0]))


def _tesseract_near(grey: np.ndarray, boxes: list) -> list:
    """Tesseract's lines in the neighbourhoods `boxes` of a frame, read in one run: the pieces are
    stacked into one image (MOSAIC_GAP rows of the frame's median between them), enlarged as the
    whole frame would be, and each word's box is taken back to the frame."""
    width = max(right - left for left, _top, right, _bottom in boxes)
    height = sum(bottom - top for _left, top, _right, bottom in boxes) + MOSAIC_GAP * (len(boxes) + 1)
    mosaic = np.full((height, width), int(np.median(grey)), np.uint8)
    offsets, y = [], MOSAIC_GAP
    for left, top, right, bottom in boxes:
        mosaic[y:y + bottom - top, :right - left] = grey[top:bottom, left:right]
        offsets.append((y, y + bottom - top, left, top))
        y += bottom - top + MOSAIC_GAP
    _calls["second_reader"] += 1
    regions = []
    for text, words in find_text_lines(mosaic, rows=grey.shape[0]):
        pieces = {}
        for word in words:
            if not any(c.isalnum() for c in word.text):
                continue
            middle = word.y + word.height / 2
            for index, (start, end, left, top) in enumerate(offsets):
                if start - MOSAIC_GAP / 2 <= middle < end + MOSAIC_GAP / 2:
                    pieces.setdefault(index, []).append((word, left, top - start))
                    break
        for piece in pieces.values():
            left = min(w.x + dx for w, dx, _ in piece)
            top = max(0, min(w.y + dy for w, _, dy in piece))
            right = max(w.x + w.width + dx for w, dx, _ in piece)
            bottom = min(grey.shape[0], max(w.y + w.height + dy for w, _, dy in piece))
            if right > left and bottom > top:
                regions.append(TextRegion(left, top, right - left, bottom - top, " ".join(w.text for w, _, _ in piece),
                                          min(w.confidence for w, _, _ in piece) / 100.0, "tesseract"))
    return regions


def second_reading(grey: np.ndarray, near=None) -> list:
    """[TextRegion] that the second reader finds in an 8-bit grey frame (rows, columns): Tesseract's
    lines (pixel_text's confidence floor), else the detector on a differently prepared image.
    With `near` (regions: the detected and the blanked ones), Tesseract reads only their
    neighbourhoods (see `neighbourhoods`), and nothing when there are none; without, the whole frame."""
    if ocr_available():
        if near is not None:
            boxes = neighbourhoods(near, *grey.shape[:2])
            return _tesseract_near(grey, boxes) if boxes else []
        _calls["second_reader"] += 1
        regions = []
        for text, words in find_text_lines(grey):
            words = [b for b in words if any(c.isalnum() for c in b.text)]
            if not words:
                continue
            left, top = min(b.x for b in words), min(b.y for b in words)
            right, bottom = max(b.x + b.width for b in words), max(b.y + b.height for b in words)
            confidence = min(b.confidence for b in words) / 100.0
            regions.append(TextRegion(left, top, right - left, bottom - top, text, confidence, "tesseract"))
        return regions
    _calls["second_reader"] += 1
    low, high = np.percentile(grey, (1, 99))
    stretched = np.clip((grey.astype(np.float64) - low) * (255.0 / max(1.0, high - low)), 0, 255)
    inverted = (255 - stretched).astype(np.uint8)
    return [TextRegion(r.x, r.y, r.width, r.height, r.text, r.confidence, "detector (second reading)")
            for r in detect_text(inverted, scale=2.0)]


__all__ = ["TextRegion", "calls", "detect_text", "neighbourhoods", "use_threads", "detector_image", "detector_available", "second_reading", "second_reader_name", "to_grey8"]
