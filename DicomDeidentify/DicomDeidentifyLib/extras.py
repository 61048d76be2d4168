"""Which optional part of the package is installed: the [pixels] extra.

`pip install slicer-deidentify` gives header de-identification with pydicom alone. Anything that
reads pixels (Clean Pixel Data; the overlay bitmaps read under Clean Graphics) needs the modules of
the [pixels] extra (pyproject.toml): numpy for the arrays, Pillow for OCR images and the report's
thumbnails. Those modules are imported only where pixels are touched (pixel_stage imports the
pixel modules inside its methods), so the rest works without them. Slicer bundles both.
"""
from __future__ import annotations

import importlib.util

PIXELS_EXTRA = "slicer-deidentify[pixels]"
PIXEL_MODULES = ("numpy", "PIL")   # top-level modules the pixel code cannot run without
# the text detector's (pixel_detector.detector_available): Clean Pixel Data cannot clean without them
DETECTOR_MODULES = ("rapidocr_onnxruntime", "onnxruntime", "cv2", "pyclipper", "shapely")


def missing_pixel_modules(find_spec=importlib.util.find_spec) -> list:
    """The modules of PIXEL_MODULES that cannot be imported ([] when pixels can be read)."""
    return [name for name in PIXEL_MODULES if find_spec(name) is None]


def missing_detector_modules(find_spec=None) -> list:
    """The modules of DETECTOR_MODULES (the [pixels] extra's text detector) that cannot be imported."""
    find_spec = find_spec or importlib.util.find_spec
    return [name for name in DETECTOR_MODULES if find_spec(name) is None]


def pixels_missing_message(what: str, missing: list) -> str:
    """One line: what needs the extra, which modules are missing, and the command that installs them."""
    return (f"{what} needs the [pixels] extra ({', '.join(missing)} not installed): "
            f"pip install '.[pixels]' in the source folder ({PIXELS_EXTRA})")
