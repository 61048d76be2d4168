"""Write a data set the way pydicom does, faster for the elements that were never decoded.

The engine leaves every element it keeps as pydicom read it (a raw element:
tag, VR, length, value bytes). pydicom's writer spends most of its time on
per-element bookkeeping; for a raw element in the encoding it was read in the
output is simply its header and its bytes, which this writer emits directly.
Everything decoded or changed (sequences included) goes through pydicom's own
write_data_element, so the bytes are identical to pydicom's dcmwrite: the
tests compare the two on every file of the corpus.
"""
from __future__ import annotations

import struct

from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO, DicomFileLike
from pydicom.filewriter import correct_ambiguous_vr, write_data_element, write_file_meta_info
from pydicom.uid import UID

UNDEFINED_LENGTH = 0xFFFFFFFF
LONG_LENGTH_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
DEFAULT_ENCODING = "iso8859"


def dataset_bytes(dataset: Dataset) -> bytes:
    fp = DicomBytesIO()
    write_file(fp, dataset)
    return fp.getvalue()


def write_to(handle, dataset: Dataset) -> None:
    """Write straight to an open binary file (no copy of the whole file in memory)."""
    write_file(DicomFileLike(handle), dataset)


def write_file(fp, dataset: Dataset) -> None:
    """Preamble, 'DICM', file meta and body, encoded as the file meta's transfer syntax says."""
    ts = UID(dataset.file_meta.TransferSyntaxUID)
    fp.write(dataset.preamble or b"\x00" * 128)
    fp.write(b"DICM")
    write_file_meta_info(fp, dataset.file_meta, enforce_standard=True)
    fp.is_implicit_VR, fp.is_little_endian = ts.is_implicit_VR, ts.is_little_endian
    correct_ambiguous_vr(dataset, ts.is_little_endian)
    _write_body(fp, dataset)


def _write_body(fp, dataset: Dataset) -> None:
    encodings = dataset.get("SpecificCharacterSet", DEFAULT_ENCODING)
    order = "<" if fp.is_little_endian else ">"
    implicit = fp.is_implicit_VR
    for tag in sorted(dataset.keys()):
        if tag.element == 0 and tag.group > 6:
            continue   # retired group lengths are not written (PS3.5 7.2), as pydicom does
        element = dataset.get_item(tag)
        if (getattr(element, "is_raw", False) and element.length != UNDEFINED_LENGTH
                and (implicit or (element.VR and len(element.VR) == 2))):
            value = element.value or b""
            if implicit:
                fp.write(struct.pack(order + "HHI", tag >> 16, tag & 0xFFFF, len(value)))
            elif element.VR in LONG_LENGTH_VRS:
                fp.write(struct.pack(order + "HH", tag >> 16, tag & 0xFFFF) + element.VR.encode()
                         + struct.pack(order + "HI", 0, len(value)))
            else:
                fp.write(struct.pack(order + "HH", tag >> 16, tag & 0xFFFF) + element.VR.encode()
                         + struct.pack(order + "H", len(value)))
            fp.write(value)
        else:
            write_data_element(fp, element, encodings)
