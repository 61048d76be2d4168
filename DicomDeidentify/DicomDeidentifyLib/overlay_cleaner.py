"""Clean Graphics for overlay bitmaps: text drawn into an overlay (a name, a date, an ID) is blanked.

Under Clean Graphics the engine keeps overlays (60xx) with their text attributes cleaned; the
bitmap itself (Overlay Data, 60xx,3000: one bit per pixel, PS3.5 8.1.2) can spell a name as
well as pixels can. Each overlay is unpacked, read with OCR like pixel data (the same frame
sample and the same judgement, pixel_text), and every identifying line's bits are cleared.
Overlays kept in the high bits of Pixel Data (retired) are not read.
"""
from __future__ import annotations

import numpy as np

from .pixel_cleaner import PADDING, sampled_frames
from .pixel_text import IdentifyingText, identifying_boxes

try:   # pydicom 3
    from pydicom.pixels.utils import pack_bits, unpack_bits
except ImportError:   # pydicom 2.4
    from pydicom.pixel_data_handlers.numpy_handler import pack_bits, unpack_bits

OVERLAY_GROUPS = range(0x6000, 0x6020, 2)


def overlay_groups(dataset) -> list:
    """The overlay groups (ints 0x6000 to 0x601E, even; PS3.3 C.9.2) of `dataset` that hold Overlay
    Data (60xx,3000), in ascending order."""
    return [group for group in OVERLAY_GROUPS if (group << 16 | 0x3000) in dataset]


def clean_overlays(dataset, judge: IdentifyingText) -> list:
    """Blank identifying text in every overlay bitmap; [{group, x, y, width, height}] blanked.
    Raises OcrUnavailable without OCR (nothing changed then)."""
    from .dicom_io import read_big_endian
    # OW overlay bits of a big-endian file are in 16-bit words stored high byte first (PS3.5 8.1.2):
    # put in little-endian order to unpack, and back to write.
    swap = read_big_endian(dataset)
    blanked = []
    for group in overlay_groups(dataset):
        rows, columns = int(dataset[group << 16 | 0x0010].value), int(dataset[group << 16 | 0x0011].value)
        frames = int(dataset.get(group << 16 | 0x0015).value) if (group << 16 | 0x0015) in dataset else 1
        element = dataset[group << 16 | 0x3000]
        words = swap and element.VR == "OW" and len(element.value) % 2 == 0
        data = _swapped(element.value) if words else element.value
        bits = np.array(unpack_bits(data)[:frames * rows * columns], dtype=np.uint8)
        if bits.size != frames * rows * columns:
            continue   # shorter than it says: left to the review item the engine wrote
        bits = bits.reshape(frames, rows, columns)
        changed = False
        for index in sampled_frames(frames):
            for box, _text in identifying_boxes((bits[index] * 255).astype(np.uint8), judge):
                top, left = max(0, box.y - PADDING), max(0, box.x - PADDING)
                bottom, right = min(rows, box.y + box.height + PADDING), min(columns, box.x + box.width + PADDING)
                bits[:, top:bottom, left:right] = 0
                blanked.append({"group": f"{group:04X}", "x": left, "y": top, "width": right - left,
                                "height": bottom - top})
                changed = True
        if changed:
            packed = pack_bits(bits.ravel())
            packed += b"\x00" if len(packed) % 2 else b""
            element.value = _swapped(packed) if words else packed
    return blanked


def _swapped(data: bytes) -> bytes:
    return np.frombuffer(data, dtype=">u2").astype("<u2").tobytes()
