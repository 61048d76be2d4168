"""Text regions in pixels: found by a text detector, read by two different readers.

The detector is RapidOCR (PyPI `rapidocr-onnxruntime`, Apache-2.0): PaddleOCR's PP-OCRv4
detection (DB, a segmentation network that finds text over anatomy, light or dark, grey or
colour, small or large) and recognition models, shipped inside its wheel and run on the CPU
by onnxruntime; nothing is downloaded at run time. Every region it detects is returned,
whatever the recognition confidence (RapidOCR drops low-scoring lines by default: here
`text_score=0`), because a region that is found but misread is still text to blank.

The second reader, for the check after blanking, is Tesseract (Debian's tesseract-ocr and its data,
pixel_text.find_text_lines: in this process through tesserocr where installed, which reads a
512x512 frame in about 0.03 CPU-seconds where the tesseract program spent 0.15-0.2 starting),
a different engine with different failure modes. It reads every read frame whole.
Where Tesseract is not installed (inside Slicer), the second reading is the detector again on
a differently prepared image (enlarged twice, inverted, contrast from the 1st-99th
percentiles), and the report says which second reader ran.

Speed (issue 12 point 7): one detector per process, its onnxruntime sessions created once
(one onnxruntime thread each, see _threads; use_threads changes it before the detector loads);
no angle classifier (rotations are 0 degrees); recognition only on the detected lines, one line
per run (not RapidOCR's padded batches), each at its own width (not padded to 320: REC_MIN_WIDTH);
onnxruntime's memory arena on; the detector's input prepared in float32; grey
frames of 512 pixels or more are detected at their own size (enlarged to 736, as RapidOCR does
by default, a 512x512 frame cost four times as much and found the same lines); colour frames
(ultrasound: text over speckle) keep RapidOCR's 736.

RapidOCR's own requirements name the GUI build of OpenCV (`opencv-python`); inside Slicer
its Qt plugins clash with Slicer's Qt, so the project installs `opencv-python-headless`
and RapidOCR with --no-deps there (Resources' requirements); the [pixels] extra of pip brings both builds.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from .pixel_text import OcrUnavailable, find_text_lines, ocr_available, to_grey8

DETECTOR = "rapidocr-onnxruntime (PP-OCRv4)"
BOX_THRESHOLD = 0.5        # DB's box score: a region's mean text probability (RapidOCR's default)
UNCLIP_RATIO = 1.6         # how far DB grows a region's kernel to the text's outline (default)
DETECTION_SIDE = 512       # the detector enlarges a grey frame until its shorter side is this...
COLOUR_DETECTION_SIDE = 736   # ...a colour one to this (RapidOCR's default): at 512, the corpus's ultrasound
                              # (480x640 RGB) lost two of its six planted lines over speckle; grey CT/MR none
MAX_ENLARGEMENT = 4        # ...but never more than 4 times: a 64-pixel MR enlarged 11 times shows
                           # "text" in anatomy, while real text even 6 pixels high is 24 at 4 times

REC_MIN_WIDTH = 96         # the recogniser's input: each line at its own width (at 48 high), at least this: at 48,
                           # a lone "P" read with 0.79 instead of 0.98 (blanked, not kept); at 96 it reads as at 320

_engine = None
# onnxruntime's threads per session (0: its default, one per core). One: on this project's shared
# 2-core machine, two spinning threads per session cost twice the CPU (12.3 against 6.8 CPU-s for
# the corpus's four images) and were slower too; run workers (--jobs) to use more cores.
_threads = 1
_lock = threading.Lock()
_calls = {"detector": 0, "second_reader": 0}


def calls() -> dict:
    """How many times this process ran the detector and the second reader: {"detector": n,
    "second_reader": n} (a copy). Instrumentation: the result cache is tested by it."""
    return dict(_calls)


def use_threads(threads: int) -> None:
    """Threads per onnxruntime session for the detector this process creates (0: one per core; 1,
    the default, in each worker of a pool too: two workers with a thread per core each would
    contend for two cores). Only before the detector is first used; later calls change nothing."""
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
    """Whether the [pixels] extra's text detector (extras.DETECTOR_MODULES) can be imported; nothing is imported."""
    from .extras import missing_detector_modules
    return not missing_detector_modules()


def detector_version() -> str:
    """The installed detector's versions as one line ('rapidocr-onnxruntime X, onnxruntime Y', from the
    packages' metadata), or a line saying the version is unknown; part of the pixel cache's fingerprint."""
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
            with _memory_arena():
                _engine = RapidOCR(**({"intra_op_num_threads": _threads, "inter_op_num_threads": 1} if _threads else {}))
            # One line per recogniser run: a batch is padded to its widest line, and six lines of a CT
            # cost 0.23 CPU-seconds batched against 0.15 one by one, read the same.
            _engine.text_rec.rec_batch_num = 1
            # ...and at its own width: RapidOCR pads every line to at least 320 (PaddleOCR's batch
            # width), so a short line ("DOE, JANE", 179 wide at 48 high) cost as much as a long one
            # (11.4 against 20.2 ms): 0.259 against 0.282 CPU-s per 512x512 CT with the corpus's six lines,
            # the same regions blanked; the readings differ in a space or a character ("03/14/2024 10:22"
            # for "03/14/202410:22"); on 16 annotation words drawn four times on a CT, 38 of 42 regions kept against
            # 35 ("mA 200", "kV 120" now read with their space), one ("W400 L 40") blanked that was kept.
            channels, height, _width = _engine.text_rec.rec_image_shape
            _engine.text_rec.rec_image_shape = [channels, height, REC_MIN_WIDTH]
            _engine.text_det.get_preprocess = _DetPreProcess.for_side
            logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        return _engine


class _memory_arena:
    """While RapidOCR makes its sessions: onnxruntime's CPU memory arena on (RapidOCR turns it off),
    so a run reuses the buffers of the last one: the detector ran in 0.093 CPU-seconds on a
    512x512 frame with it, 0.116 without (one thread). Graph optimisation stays ORT_ENABLE_ALL
    (RapidOCR's; ENABLE_EXTENDED cost 0.12). Does nothing if RapidOCR's internals differ."""

    def __enter__(self):
        try:
            from rapidocr_onnxruntime.utils.infer_engine import OrtInferSession
        except ImportError:
            self.owner = None
            return self
        self.owner, self.original = OrtInferSession, OrtInferSession.__dict__.get("_init_sess_opts")
        if not isinstance(self.original, staticmethod):
            self.owner = None
            return self
        made = self.original.__func__

        def options(config):
            chosen = made(config)
            chosen.enable_cpu_mem_arena = True
            return chosen
        OrtInferSession._init_sess_opts = staticmethod(options)
        return self

    def __exit__(self, *exc):
        if self.owner is not None:
            self.owner._init_sess_opts = self.original
        return False


def _det_preprocess_base():
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess
    return DetPreProcess


class _DetPreProcess:
    """RapidOCR's detector input (resize to a multiple of 32, (x/255 - 0.5)/0.5, channels first) in
    float32 throughout: RapidOCR's own normalises in float64 (its mean and std are float64 arrays),
    0.014 CPU-seconds of a 512x512 frame's detection, for the same values."""

    def __init__(self, limit_side_len: int, limit_type: str):
        self.base = _det_preprocess_base()(limit_side_len, limit_type)

    @classmethod
    def for_side(cls, _longest_side):
        engine = _engine
        return cls(engine.text_det.limit_side_len, engine.text_det.limit_type)

    def __call__(self, image: np.ndarray):
        resized = self.base.resize(image)
        if resized is None:
            return None
        prepared = np.empty((1, 3) + resized.shape[:2], np.float32)
        for channel in range(3):
            np.multiply(resized[..., channel], np.float32(2.0 / 255.0), out=prepared[0, channel], dtype=np.float32)
        prepared -= np.float32(1.0)
        return prepared


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
    side = COLOUR_DETECTION_SIDE if image.ndim == 3 and not _grey_in_colour(image) else DETECTION_SIDE
    engine.text_det.limit_side_len = int(min(side, MAX_ENLARGEMENT * min(image.shape[:2])))
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


def _grey_in_colour(image: np.ndarray) -> bool:
    """Whether a colour frame is grey (its three samples equal everywhere)."""
    return bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())


def second_reader_name() -> str:
    """The second reader clean_pixels' check uses: 'tesseract' when pytesseract and the tesseract program
    are installed, else the detector run again on an enlarged, inverted image."""
    return "tesseract" if ocr_available() else "detector, enlarged and inverted"


def second_reading(grey: np.ndarray) -> list:
    """[TextRegion] that the second reader finds in an 8-bit grey frame (rows, columns), read whole:
    Tesseract's lines (pixel_text's confidence floor), else the detector on a differently prepared image."""
    if ocr_available():
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


__all__ = ["TextRegion", "calls", "detect_text", "use_threads", "detector_image", "detector_available", "second_reading", "second_reader_name", "to_grey8"]
