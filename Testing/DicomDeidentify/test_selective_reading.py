"""Reading only what the engine needs, and writing unchanged elements as the bytes they were read as.

test_dicom_writer.py proves both give exactly the bytes of a whole read and of pydicom's
writer; these tests prove the fast paths are really taken, and that what they cannot
handle goes the careful way.
"""
import os
import struct
from pathlib import Path

import pydicom

from DicomDeidentifyLib import Deidentifier, DeidentifyOptions
from DicomDeidentifyLib import dicom_writer
from DicomDeidentifyLib.dicom_io import DicomReadError, read_source
from DicomDeidentifyLib.pipeline import deidentify_file
from support.data import KEY, corpus_files, data_file

PIXEL_DATA = 0x7FE00010


def test_the_corpus_is_read_selectively_undefined_length_sequences_included():
    engine = Deidentifier(DeidentifyOptions(), KEY)
    selective = with_undefined_length = 0
    for path in corpus_files():
        try:
            read = read_source(Path(path), engine.unparsed_action)
        except DicomReadError:
            continue
        if read.layout is None:
            continue
        selective += 1
        if any(getattr(read.dataset.get_item(tag), "is_undefined_length", False) for tag in read.dataset.keys()):
            with_undefined_length += 1
    assert selective > 200
    assert with_undefined_length > 20


def test_a_ct_keeps_its_pixels_unread_drops_private_tags_unread_and_parses_the_identity():
    engine = Deidentifier(DeidentifyOptions(), KEY)
    read = read_source(data_file("CT_small.dcm"), engine.unparsed_action)
    assert read.layout is not None
    assert PIXEL_DATA in [tag for tag, _start, _end in read.kept_unread]
    assert PIXEL_DATA not in read.dataset
    private = [tag for tag in read.removed_unread if (tag >> 16) % 2]
    assert len(private) > 20
    assert not any(tag.is_private for tag in read.dataset.keys())
    assert str(read.dataset.PatientName) == "CompressedSamples^CT1"
    # the elements that are parsed are pydicom's raw elements, decoded when first asked for
    assert getattr(read.dataset.get_item(0x00280010), "is_raw", False)


def test_an_unknown_vr_is_read_the_careful_way_and_still_de_identified(tmp_path):
    data = bytearray(data_file("CT_small.dcm").read_bytes())
    ds = pydicom.dcmread(data_file("CT_small.dcm"))
    # Make the VR of Study Description (0008,1030, a 16-bit-length VR) unknown: b"QQ".
    offset = data.index(struct.pack("<HH", 0x0008, 0x1030) + b"LO")
    data[offset + 4:offset + 6] = b"QQ"
    source = tmp_path / "odd-vr.dcm"
    source.write_bytes(bytes(data))
    engine = Deidentifier(DeidentifyOptions(), KEY)
    assert read_source(source, engine.unparsed_action).layout is None   # pydicom's own reading
    engine.record_changes = False
    result = deidentify_file(engine, source, tmp_path / "out")
    assert result.status == "written", result.reason
    written = Path(result.output).read_bytes()
    assert str(ds.PatientName).encode() not in written and str(ds.PatientID).encode() not in written


def test_short_writes_still_write_every_byte(tmp_path, monkeypatch):
    """writev may write less than asked (a signal, a full pipe); the rest must follow."""
    if not hasattr(os, "writev"):
        return   # Windows writes piece by piece; nothing to cut short
    engine = Deidentifier(DeidentifyOptions(), KEY)
    engine.record_changes = False
    source = data_file("CT_small.dcm")
    whole = deidentify_file(engine, source, tmp_path / "whole")
    real_writev, calls = os.writev, []

    def short_writev(descriptor, buffers):
        calls.append(len(buffers))
        return real_writev(descriptor, [memoryview(buffers[0])[:1001]])   # at most 1001 bytes a call

    monkeypatch.setattr(dicom_writer.os, "writev", short_writev)
    short = deidentify_file(engine, source, tmp_path / "short")
    assert len(calls) > 10
    assert Path(short.output).read_bytes() == Path(whole.output).read_bytes()
