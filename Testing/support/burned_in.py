"""Images with burned-in text, drawn with a real font into real pixel arrays, in real DICOM files.

Built from pydicom's SC_rgb.dcm (a Secondary Capture): rows, columns, colour or grey, bit depth,
frames and transfer syntax as asked, the patient's name, ID and a date drawn where devices
put them, and the same values in the header (so that the cleaner knows what to look for).

And a measured corpus (planted_dataset): names, IDs with and without prefixes, dates and an
institution drawn with four real fonts at known boxes into pydicom's real CT and MR images,
over tissue and background, at several sizes and contrasts; the boxes are measured on the
drawn pixels, so tests check blanking on pixels, not by reading.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pydicom
from PIL import Image, ImageDraw, ImageFont
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from support.data import read

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"   # Debian fonts-dejavu-core
NAME, PATIENT_ID, DATE = "Doe^Jane", "48151623", "20240314"
PLANTED = {   # what is drawn -> pieces that must never be read back
    "DOE, JANE": ["DOE", "JANE"],
    "MRN 48151623": ["48151623"],
    "03/14/2024 10:22": ["03/14/2024", "2024"],
}
POSITIONS = [(8, 6, "DOE, JANE", 18), (8, 30, "MRN 48151623", 14), (None, -24, "03/14/2024 10:22", 13)]
UNRELATED = (40, 120, "Liver", 16)   # not identifying: may stay


def text_image(rows=320, columns=480, color=False, frames=1, bits=8, background=0.08, ink=0.9) -> np.ndarray:
    """Frames with the planted text (white on dark), a circle and the unrelated label."""
    top = (1 << bits) - 1
    pictures = []
    for frame in range(frames):
        picture = Image.new("L", (columns, rows), int(255 * background))
        draw = ImageDraw.Draw(picture)
        for x, y, text, size in POSITIONS + [UNRELATED]:
            font = ImageFont.truetype(FONT, size)
            width = draw.textlength(text, font=font)
            draw.text((columns - width - 8 if x is None else x, rows + y if y < 0 else y), text,
                      fill=int(255 * ink), font=font)
        draw.ellipse((columns // 3, rows // 3, columns // 3 + 90 + 10 * frame, rows // 3 + 90), outline=160, width=3)
        pictures.append(np.asarray(picture, dtype=np.float64) / 255.0 * top)
    array = np.stack(pictures).round().astype(np.uint8 if bits == 8 else np.uint16)
    if color:
        array = np.stack([array, (array * 0.8).astype(array.dtype), array], axis=-1)
    return array


def burned_in_dataset(rows=320, columns=480, color=False, frames=1, bits=8, modality="US",
                      burned_in=None) -> pydicom.Dataset:
    ds = read("SC_rgb.dcm")
    array = text_image(rows, columns, color, frames, bits)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.StudyDate = NAME, PATIENT_ID, "19650304", DATE
    ds.Modality = modality
    ds.SOPInstanceUID = generate_uid()
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 3 if color else 1
    ds.PhotometricInterpretation = "RGB" if color else "MONOCHROME2"
    if color:
        ds.PlanarConfiguration = 0
    elif "PlanarConfiguration" in ds:
        del ds.PlanarConfiguration
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits, bits - 1, 0
    if frames > 1:
        ds.NumberOfFrames = frames
    if burned_in:
        ds.BurnedInAnnotation = burned_in
    ds.PixelData = array.tobytes()
    ds["PixelData"].VR = "OB" if bits == 8 else "OW"
    return ds


def frames_of(ds: pydicom.Dataset) -> np.ndarray:
    """The decoded frames, (frames, rows, columns[, 3]), colour as RGB."""
    from DicomDeidentifyLib.pixel_io import decode_frames
    return decode_frames(ds)


# --- A measured corpus: text with real fonts at known boxes in real CT and MR images -----------------

FONTS = {   # Debian fonts-dejavu-core, and Pillow's own bundled font (Aileron) for a fourth face
    "sans": FONT,
    "mono bold": "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "serif": "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "pillow": None,
}


@dataclass
class PlantedText:
    """One planted line: its text, the box its ink covers [x, y, width, height], its ink pixels."""
    text: str
    box: tuple
    mask: np.ndarray      # (rows, columns) bool: where the glyphs' pixels are
    over: str             # "tissue" or "background"
    identifying: bool = True


# (text, relative x, relative y, size as a part of the rows, font, ink: 1 brightest ... 0 darkest)
CORPUS_LINES = [
    ("DOE, JANE", 0.02, 0.02, 0.032, "sans", 1.0),
    ("MRN1234567", 0.36, 0.44, 0.027, "mono bold", 1.0),           # over tissue
    ("ID: 12-34-567", 0.30, 0.60, 0.030, "sans", 0.0),             # dark text over tissue
    ("DOB 1965-03-04", 0.02, 0.08, 0.024, "serif", 0.85),
    ("03/14/2024 10:22", 0.62, 0.94, 0.026, "pillow", 1.0),
    ("ST MARY HOSPITAL", 0.02, 0.94, 0.026, "sans", 0.7),          # lower contrast
]
CORPUS_HEADER = {"PatientName": "Doe^Jane", "PatientID": "MRN1234567", "PatientBirthDate": "19650304",
                 "StudyDate": "20240314", "InstitutionName": "St Mary Hospital"}
CORPUS_IMAGES = ["693_UNCI.dcm",                       # CT 512x512, 16-bit
                 "MR-SIEMENS-DICOM-WithOverlays.dcm",  # MR 484x484, 16-bit
                 "CT_small.dcm",                       # CT 128x128: small text
                 "US1_UNCR.dcm"]                       # US 480x640, RGB 8-bit, yellow text


def _font(face: str, size: int):
    path = FONTS[face]
    return ImageFont.load_default(size) if path is None else ImageFont.truetype(path, size)


def planted_dataset(name: str = "693_UNCI.dcm", lines=CORPUS_LINES, min_size: int = 9):
    """(data set, [PlantedText]): pydicom's real image `name` with `lines` drawn in, at the stored
    values of its own range (ink 1: its highest value, 0: its lowest), the header carrying
    CORPUS_HEADER. A line's box is where its drawn pixels differ from the image (pixels, measured)."""
    ds = read(name)
    if "BurnedInAnnotation" in ds:
        del ds.BurnedInAnnotation
    # the overlay of the MR file: not under test here (by tag: pydicom 2.4 takes no repeating-group keywords)
    for group in range(0x6000, 0x6020, 2):
        for tag in [t for t in ds.keys() if t >> 16 == group]:
            del ds[tag]
    for keyword, value in CORPUS_HEADER.items():
        setattr(ds, keyword, value)
    ds.SOPInstanceUID = generate_uid()
    frame = ds.pixel_array.astype(np.float64)
    rows, columns = frame.shape[:2]
    colour = frame.ndim == 3
    low, high = frame.min(), frame.max()
    luminance = frame.mean(axis=2) if colour else frame
    body = luminance > low + 0.25 * (high - low)   # roughly where anatomy is
    planted, picture = [], frame.copy()
    for text, rx, ry, size, face, ink in lines:
        coverage = Image.new("L", (columns, rows), 0)
        ImageDraw.Draw(coverage).text((int(rx * columns), int(ry * rows)), text, fill=255,
                                      font=_font(face, max(min_size, round(size * rows))))
        alpha = np.asarray(coverage, dtype=np.float64) / 255.0
        over = "tissue" if body[alpha > 0].mean() > 0.5 else "background"
        if over == "background" and ink < 0.5 and luminance[alpha > 0].mean() < low + 0.5 * (high - low):
            ink = 1 - ink   # dark text on a dark background would not be there to find
        value = low + ink * (high - low)
        if colour:   # yellow ink, as ultrasound devices write
            value = np.array([value, value, low + 0.1 * ink * (high - low)])
            alpha = alpha[..., np.newaxis]
        picture = picture * (1 - alpha) + value * alpha
        alpha = alpha[..., 0] if colour else alpha
        mask = alpha > 0
        ys, xs = np.nonzero(mask)
        box = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
        planted.append(PlantedText(text, box, mask, over))
    dtype = ds.pixel_array.dtype
    ds.PixelData = np.round(picture).astype(dtype).tobytes()
    if "LargestImagePixelValue" in ds:
        del ds.LargestImagePixelValue
    return ds, planted


def blanked_mask(regions, shape) -> np.ndarray:
    """(rows, columns) bool of the regions a cleaning reported as blanked."""
    mask = np.zeros(shape, bool)
    for r in regions:
        mask[r["y"]:r["y"] + r["height"], r["x"]:r["x"] + r["width"]] = True
    return mask


def box_blanked(frame: np.ndarray, planted: PlantedText, fill) -> bool:
    """Whether every pixel of the line's ink box holds the fill value (measured on pixels)."""
    x, y, width, height = planted.box
    return bool((frame[y:y + height, x:x + width] == fill).all())
