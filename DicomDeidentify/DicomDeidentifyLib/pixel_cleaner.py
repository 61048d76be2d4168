"""Clean Pixel Data (PS3.15 Table E.1-1, code 113101): blank burned-in identity in the pixels.

For one data set whose pixels were judged at risk (burned_in_risk): decode every frame
(pixel_io), blank the rectangles of the region rules that apply, find text with OCR on a
sample of frames and blank every line that identifies someone (pixel_text), read the
cleaned frames again to verify, write the pixels back uncompressed and say what was done.
Blanking is a solid fill with the image's lowest value: blurring can be undone.

The sample: all frames of a short series, else up to MAX_OCR_FRAMES spread over the series
(first and last included); what is found on any of them is blanked on every frame, as
devices stamp text at fixed places. Rule regions are blanked on every frame.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from .pixel_io import OUTPUT_TRANSFER_SYNTAX, decode_frames, encode_native
from .pixel_text import IdentifyingText, identifying_boxes, to_grey8

MAX_OCR_FRAMES = 8
PADDING = 3
THUMBNAIL_WIDTH = 192
VERIFY_PASSES = 2


@dataclass
class MaskedRegion:
    x: int
    y: int
    width: int
    height: int
    why: str           # "rule: <name>" or "identifying text (OCR)"; never the text itself


@dataclass
class PixelCleaning:
    regions: list = field(default_factory=list)
    frames: int = 0
    frames_read: list = field(default_factory=list)
    verified: bool = False            # a last OCR pass found no identifying text left
    transfer_syntax: str = str(OUTPUT_TRANSFER_SYNTAX)
    before_png: bytes = b""           # first frame, for key holders' report (shows what was there)
    after_png: bytes = b""


def sampled_frames(count: int, limit: int = MAX_OCR_FRAMES) -> list:
    if count <= limit:
        return list(range(count))
    step = (count - 1) / (limit - 1)
    return sorted({round(i * step) for i in range(limit)})


def clean_pixels(dataset, judge: IdentifyingText, rule_regions=()) -> PixelCleaning:
    """Clean `dataset`'s pixels in place; raises PixelDecodeError or OcrUnavailable (nothing changed then)."""
    frames = decode_frames(dataset)
    outcome = PixelCleaning(frames=frames.shape[0], frames_read=sampled_frames(frames.shape[0]))
    rows, columns = frames.shape[1], frames.shape[2]
    fill = frames.min()
    first = frames[0].copy()   # for the "before" thumbnail; the frames are cleaned in place (memory)
    cleaned = frames
    for name, (x, y, width, height) in rule_regions:
        _blank(cleaned, outcome, x, y, width, height, f"rule: {name}", fill, rows, columns)
    to_read = list(outcome.frames_read)
    for attempt in range(VERIFY_PASSES + 1):
        found_in = {index: [box for box, _text in identifying_boxes(to_grey8(cleaned[index]), judge)]
                    for index in to_read}
        found = [box for boxes in found_in.values() for box in boxes]
        if not found:
            outcome.verified = True
            break
        to_read = [index for index, boxes in found_in.items() if boxes]   # the others did not change
        if attempt == VERIFY_PASSES:
            break   # text still read after blanking: not verified; the caller holds the file for review
        for box in found:
            _blank(cleaned, outcome, box.x - PADDING, box.y - PADDING, box.width + 2 * PADDING,
                   box.height + 2 * PADDING, "identifying text (OCR)", fill, rows, columns)
    outcome.before_png, outcome.after_png = thumbnail(first), thumbnail(cleaned[0])
    encode_native(dataset, cleaned)
    return outcome


def _blank(frames, outcome, x, y, width, height, why, fill, rows, columns) -> None:
    left, top = max(0, int(x)), max(0, int(y))
    right, bottom = min(columns, int(x + width)), min(rows, int(y + height))
    if right <= left or bottom <= top:
        return
    frames[:, top:bottom, left:right] = fill
    region = MaskedRegion(left, top, right - left, bottom - top, why)
    if region not in outcome.regions:   # OCR reads light and dark text: the same line twice
        outcome.regions.append(region)


def thumbnail(frame: np.ndarray) -> bytes:
    """A small PNG of a frame (grey, stretched to 8 bits) for the HTML report."""
    from PIL import Image
    grey = to_grey8(frame)
    image = Image.fromarray(grey)
    if image.width > THUMBNAIL_WIDTH:
        image = image.resize((THUMBNAIL_WIDTH, max(1, round(image.height * THUMBNAIL_WIDTH / image.width))))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
