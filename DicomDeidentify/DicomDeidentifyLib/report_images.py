"""The pictures of a cleaned image in the run report: whole frames and each blanked region, before and after.

picture() makes a frame's PNG (numpy); write_pictures() writes them as owner-only PNG files in images/ beside the report (memory stays flat): the first frame
text was found on at full resolution (colour kept), a crop at full resolution around every blanked region
cut from the frame it was found on (a margin of context around it), and small copies for the Slicer panel. Pillow only: it is there whenever pixels
were cleaned (the [pixels] extra).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Callable

THUMBNAIL_WIDTH = 192      # the Slicer panel's table (report.cleaned_images)
CROP_MARGIN = 12           # pixels of context around a region, at least
ENLARGE_BELOW = 48         # a crop lower than this (pixels) is shown twice its size, pixels kept sharp


def write_pictures(folder: Path, number: int, pictures: dict, regions: list,
                   write: Callable[[Path, bytes], None], frames: dict | None = None, shown_frame: int = 0) -> dict:
    """Write the pictures of the report's image `number` into `folder`/images (which exists) with
    `write(path, data)`.

    pictures: {"before": PNG bytes, "after": PNG bytes} (either may be absent: no "before" without
    linkage), of frame `shown_frame` (index from 0); regions: [{"x", "y", "width", "height", "frame"?,
    ...}] in pixels of a frame; frames: {frame index: {"before"?, "after"?: PNG bytes}} of the frames the
    regions were found on (pixel_cleaner.PixelCleaning.frame_pictures): each crop is cut from its
    region's own frame (the shown pictures when that frame is missing). Returns the names, relative to
    `folder`: {"before_image", "after_image", "before_thumbnail", "after_thumbnail", "width", "height",
    "shown_frame", "crops": [{"region" (its index in `regions`), "frame", "x", "y", "width", "height" (the
    crop in the frame, margin included), "scale" (how much larger the page shows it), "before"?, "after"?}]}.
    """
    from PIL import Image
    images = {when: Image.open(io.BytesIO(data)) for when, data in pictures.items() if data}
    names: dict = {"crops": []}
    if not images:
        return names
    width, height = next(iter(images.values())).size
    names.update(width=width, height=height, shown_frame=int(shown_frame))
    by_frame = {int(shown_frame): images}
    for frame, sides in (frames or {}).items():
        if int(frame) != int(shown_frame):
            by_frame[int(frame)] = {when: Image.open(io.BytesIO(data)) for when, data in sides.items() if data}
    for when, image in images.items():
        name = f"images/{number}-{when}.png"
        write(folder / name, pictures[when])
        names[f"{when}_image"] = name
        small = image.copy()
        small.thumbnail((THUMBNAIL_WIDTH, max(1, height * THUMBNAIL_WIDTH // max(1, width))))
        names[f"{when}_thumbnail"] = _save(folder, f"images/{number}-{when}-small.png", small, write)
    for index, region in enumerate(regions, 1):
        box = _crop_box(region, width, height)
        if box is None:
            continue
        left, top, right, bottom = box
        frame = int(region.get("frame", shown_frame))
        source = by_frame.get(frame) or images
        frame = frame if frame in by_frame else int(shown_frame)
        crop = {"region": index - 1, "frame": frame, "x": left, "y": top, "width": right - left,
                "height": bottom - top, "scale": 2 if bottom - top < ENLARGE_BELOW else 1}
        for when, image in source.items():
            crop[when] = _save(folder, f"images/{number}-region{index}-{when}.png", image.crop(box), write)
        names["crops"].append(crop)
    return names


def picture(frame, span: tuple | None = None) -> bytes:
    """A frame (numpy array: (rows, columns) grey or (rows, columns, 3) RGB) as a PNG at full resolution:
    colour stays RGB, grey stays grey; 8-bit frames keep their values, any other is stretched to 0-255
    over `span` (low, high; default the frame's own), so that burned-in text can be read on a page."""
    import numpy as np
    from PIL import Image
    if frame.dtype != np.uint8:
        low, high = span if span is not None else (float(frame.min()), float(frame.max()))
        scaled = (frame.astype(np.float64) - low) * (255.0 / (high - low)) if high > low else np.zeros(frame.shape)
        frame = np.clip(scaled, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG", compress_level=1)   # uint8: grey as L, 3 samples as RGB
    return buffer.getvalue()


def first_frame_png(dataset) -> bytes:
    """The first frame of a data set's pixels as a PNG (picture); b"" when there are none or they cannot be
    decoded (pixel_io.decode_frames: no Pixel Data, an unsupported layout, no decoder)."""
    from .pixel_io import PixelDecodeError, decode_frames
    try:
        return picture(decode_frames(dataset)[0])
    except PixelDecodeError:
        return b""


def _crop_box(region: dict, width: int, height: int):
    """(left, top, right, bottom) of a region with its margin, inside the frame; None if outside it."""
    margin = max(CROP_MARGIN, int(region["height"]) // 2)
    left, top = max(0, int(region["x"]) - margin), max(0, int(region["y"]) - margin)
    right = min(width, int(region["x"]) + int(region["width"]) + margin)
    bottom = min(height, int(region["y"]) + int(region["height"]) + margin)
    return (left, top, right, bottom) if right > left and bottom > top else None


def _save(folder: Path, name: str, image, write) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    write(folder / name, buffer.getvalue())
    return name
