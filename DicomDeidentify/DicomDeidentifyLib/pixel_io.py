"""Pixel data in and out, the same on pydicom 2.4 and 3.

In: every frame decoded (uncompressed, RLE, JPEG baseline/lossless, JPEG-LS, JPEG 2000 through
pydicom's handlers and the pylibjpeg plugins), colour as RGB (pydicom 3 converts YBR itself,
2.4 leaves YBR_FULL/YBR_FULL_422 to the caller). Out: native (uncompressed) pixels in Explicit
VR Little Endian. Never re-encoded lossily: a cleaned image is only ever written uncompressed,
so no cleaning step adds compression loss; the file says which transfer syntax it has.
"""
from __future__ import annotations

import numpy as np
import pydicom
from pydicom.uid import ExplicitVRLittleEndian

from .errors import error_kind

PYDICOM_3 = int(pydicom.__version__.split(".")[0]) >= 3
OUTPUT_TRANSFER_SYNTAX = ExplicitVRLittleEndian
CONVERTED_TO_RGB = {"YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT"}
SUPPORTED_PHOTOMETRIC = {"MONOCHROME1", "MONOCHROME2", "RGB", "PALETTE COLOR"} | CONVERTED_TO_RGB
# PS3.3 C.7.6.3.1.2 defined terms (current and retired): only these are named in a reason, any other
# text in the element could be a value planted there
PHOTOMETRIC_TERMS = SUPPORTED_PHOTOMETRIC | {"YBR_FULL", "YBR_FULL_422", "YBR_PARTIAL_422", "YBR_PARTIAL_420",
                                             "YBR_ICT", "YBR_RCT", "HSV", "ARGB", "CMYK", "XYB"}


class PixelDecodeError(Exception):
    """The pixels can't be decoded here (no handler, an unsupported photometric interpretation)."""


def decode_frames(dataset) -> np.ndarray:
    """All frames as one array: (frames, rows, columns) or (frames, rows, columns, 3) for colour (RGB)."""
    if 0x7FE00010 not in dataset:
        raise PixelDecodeError("no (integer) Pixel Data to clean")
    if int(dataset.get("BitsAllocated", 0) or 0) not in (8, 16, 32):
        raise PixelDecodeError(f"{dataset.get('BitsAllocated')} bits allocated: not supported for cleaning")
    photometric = str(dataset.get("PhotometricInterpretation", "")).strip()
    if photometric not in SUPPORTED_PHOTOMETRIC:
        named = repr(photometric) if photometric in PHOTOMETRIC_TERMS else "of this file"
        raise PixelDecodeError(f"photometric interpretation {named} is not supported for cleaning")
    try:
        array = dataset.pixel_array
    except Exception as error:   # no handler for the transfer syntax, a damaged stream, ...
        # the type only: pydicom's texts quote element values (errors.error_kind)
        raise PixelDecodeError(f"pixel data cannot be decoded: {error_kind(error)}") from None
    if not PYDICOM_3 and photometric in ("YBR_FULL", "YBR_FULL_422"):
        from pydicom.pixel_data_handlers.util import convert_color_space
        array = convert_color_space(array, "YBR_FULL", "RGB")
    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    samples = int(dataset.get("SamplesPerPixel", 1) or 1)
    if frames == 1:
        array = array[np.newaxis, ...]
    expected = 4 if samples > 1 else 3
    if array.ndim != expected:
        raise PixelDecodeError(f"decoded pixels have shape {array.shape}, not {frames} frame(s) of "
                               f"{samples} sample(s)")
    return array


def encode_native(dataset, frames: np.ndarray) -> None:
    """Put `frames` back as native pixel data (Explicit VR Little Endian), the attributes that
    describe it kept consistent (photometric, planar configuration, VR). A big-endian data set's
    other binary values (lookup tables, overlays, waveforms) are converted with it."""
    from .dicom_io import read_big_endian
    if read_big_endian(dataset):
        binary_to_little_endian(dataset)
    samples = 3 if frames.ndim == 4 else 1
    if samples == 3:
        dataset.PhotometricInterpretation = "RGB"
        dataset.PlanarConfiguration = 0
    elif "PlanarConfiguration" in dataset:
        del dataset.PlanarConfiguration
    bits = int(dataset.BitsAllocated)
    dtype = {8: np.uint8, 16: np.uint16, 32: np.uint32}[bits]
    if int(dataset.get("PixelRepresentation", 0) or 0) == 1:
        dtype = {8: np.int8, 16: np.int16, 32: np.int32}[bits]
    data = np.ascontiguousarray(frames.astype(dtype, copy=False)).astype(np.dtype(dtype).newbyteorder("<")).tobytes()
    if len(data) % 2:
        data += b"\x00"
    dataset.PixelData = data
    element = dataset["PixelData"]   # (the caller writes the file with OUTPUT_TRANSFER_SYNTAX)
    element.VR = "OB" if bits == 8 else "OW"
    element.is_undefined_length = False
    # The data set's other elements may still be raw bytes in the source's encoding: the writer
    # sees that it differs from the new transfer syntax and re-encodes them (dicom_io).


# Binary VRs whose values are words in the transfer syntax's byte order (PS3.5 7.3), by word size.
# OB and UN are bytes; numbers of other VRs (US, SS, FL, AT, ...) are decoded by pydicom with the
# byte order they were read in and encoded anew with the one they are written in.
WORD_SIZE = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def binary_to_little_endian(dataset, skip=(0x7FE00010,)) -> int:
    """Byte-swap every OW, OF, OL, OD and OV value of a data set read as big endian (at the top
    level and in every sequence item; tags in `skip`, the pixel data re-encoded by the caller, at
    the top level only), so that written as little endian they hold the same numbers: Palette
    Color LUT Data, LUT Data of VOI/Modality LUT Sequences, Overlay Data, Waveform Data, ...
    PS3.5 7.3 and A.3. Returns the number of values swapped."""
    swapped = 0
    for tag in list(dataset.keys()):
        if int(tag) in skip:
            continue
        element = dataset[tag]   # decoded with the byte order it was read in
        if element.VR == "SQ":
            for item in element.value or []:
                swapped += binary_to_little_endian(item, skip=())
            continue
        size = WORD_SIZE.get(element.VR)
        value = element.value
        if size and isinstance(value, (bytes, bytearray)) and value and len(value) % size == 0:
            element.value = np.frombuffer(value, dtype=f">u{size}").astype(f"<u{size}").tobytes()
            swapped += 1
    return swapped
