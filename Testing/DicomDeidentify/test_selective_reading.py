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
from DicomDeidentifyLib import dicom_io, dicom_writer, pipeline
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


LARGE_CASES = ["CT_small.dcm", "MR_small.dcm", "emri_small.dcm", "JPEG2000.dcm", "rtdose.dcm", "SC_rgb.dcm"]


def test_large_inputs_are_mapped_and_copied_by_the_kernel_giving_the_same_bytes(tmp_path, monkeypatch):
    """Inputs over IN_MEMORY_LIMIT (many-frame objects) are scanned through a mapping and their
    pixel data copied file to file; the output must be what the in-memory path writes."""
    engine = Deidentifier(DeidentifyOptions(), KEY)
    engine.record_changes = False
    expected = {name: Path(deidentify_file(engine, data_file(name), tmp_path / "memory").output).read_bytes()
                for name in LARGE_CASES}
    monkeypatch.setattr(dicom_io, "IN_MEMORY_LIMIT", 0)
    monkeypatch.setattr(dicom_writer, "KERNEL_COPY_MIN", 1)
    copies = []
    if hasattr(os, "copy_file_range"):
        real_copy = os.copy_file_range
        monkeypatch.setattr(dicom_writer.os, "copy_file_range",
                            lambda *args: copies.append(args[2]) or real_copy(*args))
    for name in LARGE_CASES:
        read = read_source(data_file(name), engine.unparsed_action)
        assert read.layout is not None and read.layout.path == str(data_file(name)), name
        result = deidentify_file(engine, data_file(name), tmp_path / "mapped")
        assert Path(result.output).read_bytes() == expected[name], name
    assert not hasattr(os, "copy_file_range") or len(copies) >= len(LARGE_CASES)


def test_a_large_input_cut_short_is_refused_and_one_changed_while_running_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(dicom_io, "IN_MEMORY_LIMIT", 0)
    engine = Deidentifier(DeidentifyOptions(), KEY)
    engine.record_changes = False
    result = deidentify_file(engine, data_file("MR_truncated.dcm"), tmp_path / "out")
    assert result.status == "failed" and "truncated" in result.reason
    # An input truncated between reading and writing: the copy finds it shorter, the file fails
    # with that reason, and nothing is left in the output folder.
    monkeypatch.setattr(dicom_writer, "KERNEL_COPY_MIN", 1)
    source = tmp_path / "changing.dcm"
    source.write_bytes(data_file("CT_small.dcm").read_bytes())
    real_read = dicom_io.read_source

    def read_then_truncate(path, unparsed=None, order_owed=False):
        read = real_read(path, unparsed, order_owed)
        with open(path, "r+b") as handle:
            handle.truncate(1000)
        return read

    monkeypatch.setattr(pipeline, "read_source", read_then_truncate)
    result = deidentify_file(engine, source, tmp_path / "changed")
    if hasattr(os, "copy_file_range"):
        assert result.status == "failed" and "changed during the run" in result.reason
        assert not [p for p in (tmp_path / "changed").rglob("*") if p.is_file()]
