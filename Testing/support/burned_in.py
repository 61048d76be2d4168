"""Images with burned-in text, drawn with a real font into real pixel arrays, in real DICOM files.

Built from pydicom's SC_rgb.dcm (a Secondary Capture): rows, columns, colour or grey, bit depth,
frames and transfer syntax as asked, the patient's name, ID and a date drawn where devices
put them, and the same values in the header (so that the cleaner knows what to look for).
"""
from __future__ import annotations

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
