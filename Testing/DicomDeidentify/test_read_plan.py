"""One reading plan per file: the file meta is walked once for where the data set starts and for its
transfer syntax (structure_check.meta_layout), and the readers (dicom_io, bounded_read, the output
check) use that walk's answer instead of walking again (issue 13, perf13c). These tests prove the
one walk answers as pydicom's own reader does, on every pydicom test file and on cut and long metas."""
import io
import struct

import pydicom
from pydicom.filereader import _read_file_meta_info, read_preamble

from DicomDeidentifyLib import output_check
from DicomDeidentifyLib.structure_check import body_offset, meta_layout, meta_transfer_syntax
from support.data import corpus_files, data_file, save


def _pydicom_meta(data: bytes) -> tuple:
    """(where pydicom's reader starts the data set, the Transfer Syntax UID it read)."""
    source = io.BytesIO(data)
    read_preamble(source, False)
    meta = _read_file_meta_info(source)
    return source.tell(), str(meta.get("TransferSyntaxUID", ""))


def test_the_one_walk_agrees_with_pydicom_on_every_test_file():
    compared = 0
    for path in corpus_files():
        data = open(path, "rb").read()
        if data[128:132] != b"DICM":
            assert meta_layout(data) == (0, "")
            continue
        try:
            expected = _pydicom_meta(data)
        except Exception:
            continue   # a meta pydicom itself refuses: the structure check decides about such a file
        assert meta_layout(data) == expected, path
        assert (body_offset(data), meta_transfer_syntax(data)) == expected
        compared += 1
    assert compared > 150


def test_a_file_cut_inside_its_meta_reads_no_syntax_it_does_not_hold():
    data = data_file("CT_small.dcm").read_bytes()
    start, syntax = meta_layout(data)
    assert syntax == "1.2.840.10008.1.2.1"
    for cut in range(0, start + 16):
        offset, found = meta_layout(data[:cut])
        # a cut inside the syntax's value gives its start at most; once the meta is whole, the same answers
        assert syntax.startswith(found), cut
        if cut >= start + 8:
            assert (offset, found) == (start, syntax)
        elif cut < 132:
            assert (offset, found) == (0, "")


def test_the_output_check_reads_a_file_whose_meta_is_longer_than_its_first_read(tmp_path):
    dataset = pydicom.dcmread(data_file("CT_small.dcm"))
    # Private Information (0002,0102): a meta of 6 kB, longer than the 4 kB the check reads first
    dataset.file_meta.PrivateInformationCreatorUID = "1.2.3.4"
    dataset.file_meta.PrivateInformation = b"\x00" * 6000
    path = tmp_path / "long-meta.dcm"
    save(dataset, path)
    data = path.read_bytes()
    start = _pydicom_meta(data)[0]
    assert start > 6000 and len(data) > start + 4096
    parsed, searched = output_check._read_back(path)
    expected = pydicom.dcmread(path, stop_before_pixels=True)
    assert [int(tag) for tag in parsed.keys()] == [int(tag) for tag in expected.keys()]
    assert str(parsed.PatientName) == str(expected.PatientName)
    pixel_header = struct.pack("<HH", 0x7FE0, 0x0010)
    assert searched[:start] == data[:start] and pixel_header not in searched[start:]
