"""Scene screenshots: Slicer saves a picture of the views with every scene, and the views can show
a patient's name, ID and dates (DICOM corner annotations, burned-in text). No text search can
see into pixels, so the scrubber blanks them: same size, so the scene still reads.

Which files are screenshots: '<scene>.png' beside a .mrml (vtkMRMLScene::SaveSceneScreenshot,
also in the root of a bundle) and the images of legacy scene view storage nodes.
"""
from __future__ import annotations

import posixpath
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SIDE = 1 << 15


def png_size(data: bytes):
    """(width, height) of a PNG, or None if the data is not one."""
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR" or len(data) < 24:
        return None
    return struct.unpack(">II", data[16:24])


def blank_png(width: int, height: int) -> bytes:
    """A black 8-bit grey PNG of the given size."""
    width, height = max(1, min(width, MAX_SIDE)), max(1, min(height, MAX_SIDE))
    rows = (b"\x00" + b"\x00" * width) * height   # filter byte 0, then the row
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 9)) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def blanked(data: bytes) -> bytes:
    """The blank counterpart of a PNG screenshot (a 1x1 one if the data is no readable PNG)."""
    width, height = png_size(data) or (1, 1)
    return blank_png(width, height)


def screenshot_names(names: list, scene_names: list, scene_view_images: set) -> set:
    """Which of a scene's files are screenshots: '<scene>.png' beside each scene file, and the
    files scene view storage nodes name."""
    thumbnails = {posixpath.splitext(scene)[0] + ".png" for scene in scene_names}
    return {name for name in names if name in thumbnails or name in scene_view_images}
