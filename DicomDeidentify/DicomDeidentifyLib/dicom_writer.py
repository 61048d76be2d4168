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
import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.filewriter import (correct_ambiguous_vr, correct_ambiguous_vr_element, write_data_element,
                                write_file_meta_info)
from pydicom.uid import UID

PYDICOM_MAJOR = int(pydicom.__version__.split(".")[0])
UNDEFINED_LENGTH = 0xFFFFFFFF
LONG_LENGTH_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
DEFAULT_ENCODING = "iso8859"
# Text VRs whose plain ASCII str values encode the same in every character set: written here,
# without pydicom's per-element bookkeeping (the engine changes a few dozen of them per file).
PLAIN_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR",
                            "UT"})
MULTI_VALUED = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "SH", "TM", "UC", "UI"})


def dataset_bytes(dataset: Dataset, raw_elements=()) -> bytes:
    fp = DicomBytesIO()
    write_file(fp, dataset, raw_elements)
    return fp.getvalue()


def write_to(handle, dataset: Dataset, raw_elements=()) -> None:
    """Write straight to an open binary file (no copy of the whole file in memory)."""
    write_file(DicomFileLike(handle), dataset, raw_elements)


def write_file(fp, dataset: Dataset, raw_elements=()) -> None:
    """raw_elements: (tag, bytes) of top-level elements kept without parsing (header and value,
    in the data set's encoding), merged into the body in tag order."""
    """Preamble, 'DICM', file meta and body, encoded as the file meta's transfer syntax says."""
    ts = UID(dataset.file_meta.TransferSyntaxUID)
    fp.write(dataset.preamble or b"\x00" * 128)
    fp.write(b"DICM")
    write_file_meta_info(fp, dataset.file_meta, enforce_standard=True)
    fp.is_implicit_VR, fp.is_little_endian = ts.is_implicit_VR, ts.is_little_endian
    _correct_ambiguous_vrs(dataset, ts.is_little_endian)
    _write_body(fp, dataset, raw_elements)


def _correct_ambiguous_vrs(dataset: Dataset, little_endian: bool) -> None:
    """Settle 'US or SS'-style VRs before writing, as pydicom's writer does, without decoding
    the other elements (pydicom 2.4's correct_ambiguous_vr decodes every one)."""
    if PYDICOM_MAJOR >= 3:
        correct_ambiguous_vr(dataset, little_endian)   # 3.x already leaves raw elements alone
        return
    for tag in list(dataset.keys()):
        vr = getattr(dataset.get_item(tag), "VR", None) or dictionary_vr_or_empty(tag)
        if vr == "SQ":
            for item in dataset[tag].value or []:
                _correct_ambiguous_vrs(item, little_endian)
        elif " or " in vr:
            correct_ambiguous_vr_element(dataset[tag], dataset, little_endian)


def dictionary_vr_or_empty(tag) -> str:
    """The dictionary VR of a tag, '' for one no dictionary knows (private, unknown)."""
    try:
        return dictionary_VR(tag)
    except KeyError:
        return ""


def _write_plain_text(fp, tag, element, order: str, implicit: bool) -> bool:
    """Write a decoded text element whose values are plain ASCII strings, as pydicom would
    (values joined by backslashes, padded to even length: UIs with NUL, others with a space);
    False, and nothing written, for anything else."""
    vr = element.VR
    if vr not in PLAIN_TEXT_VRS or getattr(element, "is_undefined_length", False):
        return False
    value = element.value
    if value is None or value == "":
        values = []
    elif type(value) is str or (vr == "PN" and type(value).__name__ == "PersonName"):
        values = [str(value)]
    elif vr in MULTI_VALUED and type(value).__name__ == "MultiValue" and all(type(v) is str for v in value):
        values = list(value)
    else:
        return False
    text = "\\".join(values)
    if not text.isascii():
        return False
    data = text.encode("ascii")
    if len(data) % 2:
        data += b"\x00" if vr == "UI" else b" "
    if implicit:
        header = struct.pack(order + "HHI", tag >> 16, tag & 0xFFFF, len(data))
    elif vr in LONG_LENGTH_VRS:
        header = struct.pack(order + "HH", tag >> 16, tag & 0xFFFF) + vr.encode() + struct.pack(order + "HI", 0, len(data))
    else:
        if len(data) > 0xFFFF:
            return False
        header = struct.pack(order + "HH", tag >> 16, tag & 0xFFFF) + vr.encode() + struct.pack(order + "H", len(data))
    fp.write(header + data)
    return True


def _write_body(fp, dataset: Dataset, raw_elements=()) -> None:
    encodings = dataset.get("SpecificCharacterSet", DEFAULT_ENCODING)
    order = "<" if fp.is_little_endian else ">"
    implicit = fp.is_implicit_VR
    pending = list(raw_elements)
    pending.reverse()   # a stack: smallest tag last
    for tag in sorted(dataset.keys()):
        while pending and pending[-1][0] < tag:
            fp.write(pending.pop()[1])
        if tag.element == 0 and tag.group > 6:
            continue   # retired group lengths are not written (PS3.5 7.2), as pydicom does
        element = dataset.get_item(tag)
        if (getattr(element, "is_raw", False) and element.length != UNDEFINED_LENGTH
                and (implicit or (element.VR and len(element.VR) == 2))):
            value = element.value or b""
            if implicit:
                header = struct.pack(order + "HHI", tag >> 16, tag & 0xFFFF, len(value))
            elif element.VR in LONG_LENGTH_VRS:
                header = (struct.pack(order + "HH", tag >> 16, tag & 0xFFFF) + element.VR.encode()
                          + struct.pack(order + "HI", 0, len(value)))
            else:
                header = (struct.pack(order + "HH", tag >> 16, tag & 0xFFFF) + element.VR.encode()
                          + struct.pack(order + "H", len(value)))
            fp.write(header + value if len(value) < 4096 else header)
            if len(value) >= 4096:
                fp.write(value)   # a large value is written as it is, not copied
        elif not _write_plain_text(fp, tag, element, order, implicit):
            write_data_element(fp, element, encodings)
    while pending:
        fp.write(pending.pop()[1])
