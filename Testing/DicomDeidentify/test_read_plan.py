"""One reading plan per file: the file meta is walked once for where the data set starts and for its
transfer syntax (structure_check.meta_layout), and the readers (dicom_io, bounded_read, the output
check) use that walk's answer instead of walking again (issue 13, perf13c); the engine decodes the
identity of a series once. These tests prove the one walk answers as pydicom's own reader does, on
every pydicom test file and on cut and long metas, and that the cached identity is each file's own."""
import io
import struct

import pydicom
from pydicom.dataelem import DataElement
from pydicom.filereader import _read_file_meta_info, read_preamble

from DicomDeidentifyLib import Deidentifier, DeidentifyOptions, output_check
from DicomDeidentifyLib.dicom_io import read_source
from DicomDeidentifyLib.structure_check import body_offset, meta_layout, meta_transfer_syntax
from support.data import KEY, corpus_files, data_file, save


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


def _identity_of(engine, path):
    read = read_source(path, engine.unparsed_action)
    result = engine.deidentify(read.dataset, str(path))
    return result.patient["identity_hash"], result.patient["original"], str(read.dataset.PatientName)


def test_the_identity_decoded_once_per_series_is_each_file_s_own(tmp_path):
    """The engine keeps the decoded identity of a series (keyed by its bytes as read): a file whose
    identity bytes differ in any one element, or in the character set, is decoded afresh, and every
    file gets what a new engine (no cache) gives it."""
    base = pydicom.dcmread(data_file("CT_small.dcm"))
    variants = {"same": {}, "id": {"PatientID": "OTHER-77"}, "name": {"PatientName": "Roe^Richard"},
                "birth": {"PatientBirthDate": "19700101"}, "sex": {"PatientSex": "F"},
                "charset": {"SpecificCharacterSet": "ISO_IR 192"}, "issuer": {"IssuerOfPatientID": "HOSP"}}
    paths = {}
    for name, changes in [("first", {})] + list(variants.items()):
        dataset = pydicom.dcmread(data_file("CT_small.dcm"))
        dataset.SOPInstanceUID = f"1.2.826.0.1.3680043.8.498.{len(paths) + 1}"
        for keyword, value in changes.items():
            setattr(dataset, keyword, value)
        paths[name] = tmp_path / f"{name}.dcm"
        save(dataset, paths[name])
    engine = Deidentifier(DeidentifyOptions(), KEY)
    engine.record_changes = False
    first = _identity_of(engine, paths["first"])
    assert len(engine._contexts) == 1
    for name in variants:
        cached = _identity_of(engine, paths[name])
        fresh_engine = Deidentifier(DeidentifyOptions(), KEY)
        fresh_engine.record_changes = False
        assert cached == _identity_of(fresh_engine, paths[name]), name
        # (the identity is the Patient ID and its issuer when there is an ID; the name and birth
        # date are still the linkage store's originals)
        assert (cached[0] == first[0]) == (name not in ("id", "issuer")), name
        assert (cached[1] == first[1]) == (name in ("same", "sex", "charset")), name
    assert first[1]["patient_id"] == str(base.PatientID) and first[1]["name"] == str(base.PatientName)
    # one entry per distinct identity's bytes (the same file again adds none)
    assert len(engine._contexts) == len(variants)


def test_an_identity_stored_as_un_is_not_taken_from_the_cache(tmp_path):
    dataset = pydicom.dcmread(data_file("CT_small.dcm"))
    save(dataset, tmp_path / "plain.dcm")
    name = str(dataset.PatientName).encode("ascii")
    # the bytes of a PN, stored as UN (decoded in place by the engine)
    dataset[0x00100010] = DataElement(0x00100010, "UN", name + b" " * (len(name) % 2))
    save(dataset, tmp_path / "as-un.dcm")
    engine = Deidentifier(DeidentifyOptions(), KEY)
    engine.record_changes = False
    plain = _identity_of(engine, tmp_path / "plain.dcm")
    as_un = _identity_of(engine, tmp_path / "as-un.dcm")
    assert len(engine._contexts) == 1   # the UN file's identity was decoded, not looked up
    assert as_un[:2] == plain[:2]


def test_values_the_engine_sets_as_bytes_are_the_bytes_pydicom_writes():
    """_replaced_undecoded sets its dummies, pseudonyms and new UIDs as raw bytes
    (dicom_writer.plain_text_value): they must be what pydicom's writer makes of the DataElement
    the engine set before, in both byte orders and VR encodings, or None (the DataElement way)."""
    from pydicom import config
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_data_element
    from DicomDeidentifyLib.dicom_writer import PLAIN_TEXT_VRS, plain_text_value
    values = [None, "", "A", "AB", "19000101", "1.2.840.10008.5.1.4.1.1.2", "2.25.1234567", ["2.25.1", "2.25.22"],
              "Mopeijeim^Dreirus", "ANON08V6W3NA03", "a\\b", "Müller", ["A", "Müller"], 7]
    encoded = refused = 0
    for vr in sorted(PLAIN_TEXT_VRS) + ["DS", "IS", "US", "OB"]:
        for value in values:
            data = plain_text_value(vr, value)
            if data is None:
                refused += 1
                continue
            for implicit, little in ((False, True), (True, True), (False, False)):
                buffer = DicomBytesIO()
                buffer.is_implicit_VR, buffer.is_little_endian = implicit, little
                write_data_element(buffer, DataElement(0x00081030, vr, value, validation_mode=config.IGNORE))
                written = buffer.getvalue()
                assert written[-len(data):] == data if data else True, (vr, value)
                assert len(written) - (8 if implicit or vr not in ("UC", "UR", "UT") else 12) == len(data), (vr, value)
            encoded += 1
    assert encoded > 80 and refused > 20
