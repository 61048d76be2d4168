"""Values judged by what they are, not by how they are encoded (issue 13).

Inputs are pydicom's CT_small with elements re-encoded byte by byte (support/encodings.py):
public attributes stored as UN, sequences stored as UN (defined and undefined length,
implicit VR inside), private sequences in implicit VR, VR conflicts, odd VR bytes. Each test
runs both ways the engine reads a file: the sampled way (every element parsed, changes
recorded) and the fast way (elements left unparsed, unchanged ones copied as bytes).
"""
from pathlib import Path

import pydicom
import pytest

from DicomDeidentifyLib import Deidentifier, DeidentifyOptions
from DicomDeidentifyLib.pipeline import deidentify_file
from support.data import KEY, deidentify_source, read
from support.encodings import (IMPLICIT_LE, explicit, file_from, implicit, item, sequence_value, un)

NAME = b"Smith^Reviewer"
UID = "1.2.826.0.1.3680043.9.7781.1.2.3"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
SECONDARY_REVIEWER_NAME, STUDY_UPDATE_DATE_TIME = 0x00140104, 0x0008041F
REFERENCED_IMAGE_SEQUENCE, DERIVATION_CODE_SEQUENCE = 0x00081140, 0x00089215
REFERENCE = (implicit(0x00081150, CT_IMAGE.encode(), vr="UI") + implicit(0x00081155, UID.encode(), vr="UI"))
CODE = (implicit(0x00080100, b"113072") + implicit(0x00080102, b"DCM")
        + implicit(0x00080104, b"Multiplanar reformatting") + implicit(SECONDARY_REVIEWER_NAME, NAME))


def run(tmp_path, overrides, options=None, sampled=True, transfer_syntax="1.2.840.10008.1.2.1", dataset=None):
    """De-identify CT_small with `overrides` {tag: element bytes}: (result, output data set, output bytes)."""
    ds = dataset if dataset is not None else read("CT_small.dcm")
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "in.dcm"
    source.write_bytes(file_from(ds, overrides, transfer_syntax))
    return deidentify_source(source, tmp_path / "out", options, sampled)


def as_sequence(dataset, tag):
    """An element of an implicit VR output that no dictionary knows, read as the sequence it is."""
    import io
    from pydicom.filereader import read_sequence
    element = dataset.get_item(tag)
    if getattr(element, "VR", None) == "SQ" and not getattr(element, "is_raw", False):
        return element.value
    value = element.value
    return read_sequence(io.BytesIO(value), True, True, element.length if element.length == 0xFFFFFFFF
                         else len(value), "iso8859")


def both_ways(test):
    return pytest.mark.parametrize("sampled", [True, False], ids=["sampled", "fast"])(test)


# -- 1. public attributes stored as UN --------------------------------------------------------

@both_ways
def test_a_person_name_stored_as_un_is_emptied_as_a_person_name(tmp_path, sampled):
    result, out, data = run(tmp_path, {SECONDARY_REVIEWER_NAME: un(SECONDARY_REVIEWER_NAME, NAME)}, sampled=sampled)
    assert result.status == "written", result.reason
    assert out[SECONDARY_REVIEWER_NAME].VR == "PN" and out[SECONDARY_REVIEWER_NAME].value == ""
    assert b"Smith" not in data


@both_ways
@pytest.mark.parametrize("dates, expected", [("remove", ""), ("full", "20170801123000"),
                                             ("modified", "shifted")])
def test_a_date_time_stored_as_un_follows_the_date_option(tmp_path, sampled, dates, expected):
    options = DeidentifyOptions(dates=dates)
    result, out, _ = run(tmp_path, {STUDY_UPDATE_DATE_TIME: un(STUDY_UPDATE_DATE_TIME, b"20170801123000")},
                         options, sampled=sampled)
    assert result.status == "written", result.reason
    value = out[STUDY_UPDATE_DATE_TIME].value
    assert out[STUDY_UPDATE_DATE_TIME].VR == "DT"
    if expected == "shifted":
        days = result.patient["date_offset_days"]
        import datetime
        assert value == (datetime.date(2017, 8, 1) - datetime.timedelta(days=days)).strftime("%Y%m%d") + "123000"
    else:
        assert value == expected


@both_ways
@pytest.mark.parametrize("undefined", [False, True], ids=["defined", "undefined"])
def test_a_sequence_stored_as_un_is_walked_its_uids_replaced(tmp_path, sampled, undefined):
    value = sequence_value([item(REFERENCE, undefined)], undefined)
    result, out, data = run(tmp_path, {REFERENCED_IMAGE_SEQUENCE: un(REFERENCED_IMAGE_SEQUENCE, value, undefined)},
                            sampled=sampled)
    assert result.status == "written", result.reason
    reference = out.ReferencedImageSequence[0]
    assert reference.ReferencedSOPClassUID == CT_IMAGE
    assert reference.ReferencedSOPInstanceUID == Deidentifier(DeidentifyOptions(), KEY).map_uid(UID)
    assert UID.encode() not in data


@both_ways
@pytest.mark.parametrize("undefined", [False, True], ids=["defined", "undefined"])
def test_an_unlisted_sequence_stored_as_un_keeps_its_codes_and_loses_its_names(tmp_path, sampled, undefined):
    value = sequence_value([item(CODE, undefined)], undefined)
    result, out, data = run(tmp_path, {DERIVATION_CODE_SEQUENCE: un(DERIVATION_CODE_SEQUENCE, value, undefined)},
                            sampled=sampled)
    assert result.status == "written", result.reason
    code = out.DerivationCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning) == ("113072", "DCM",
                                                                               "Multiplanar reformatting")
    assert code[SECONDARY_REVIEWER_NAME].value == ""
    assert b"Smith" not in data


@both_ways
@pytest.mark.parametrize("undefined", [False, True], ids=["defined", "undefined"])
def test_un_elements_inside_sequences_are_judged_at_every_depth(tmp_path, sampled, undefined):
    inner = un(REFERENCED_IMAGE_SEQUENCE, sequence_value([item(REFERENCE, undefined)], undefined), undefined)
    body = explicit(0x00080100, "SH", b"113072") + un(SECONDARY_REVIEWER_NAME, NAME) + inner
    outer = explicit(DERIVATION_CODE_SEQUENCE, "SQ", sequence_value([item(body, undefined)], undefined), undefined)
    result, out, data = run(tmp_path, {DERIVATION_CODE_SEQUENCE: outer}, sampled=sampled)
    assert result.status == "written", result.reason
    code = out.DerivationCodeSequence[0]
    assert code.CodeValue == "113072" and code[SECONDARY_REVIEWER_NAME].value == ""
    assert code.ReferencedImageSequence[0].ReferencedSOPInstanceUID == \
        Deidentifier(DeidentifyOptions(), KEY).map_uid(UID)
    assert b"Smith" not in data and UID.encode() not in data


@both_ways
def test_un_elements_that_are_not_values_of_their_vr_are_removed_and_reported(tmp_path, sampled):
    b_value = 0x00189087   # Diffusion b-value, FD: eight bytes, not six
    garbage_sequence = un(DERIVATION_CODE_SEQUENCE, b"Smith^Reviewer in no item")
    result, out, data = run(tmp_path, {b_value: un(b_value, b"\x01\x02\x03\x04\x05\x06"),
                                       DERIVATION_CODE_SEQUENCE: garbage_sequence}, sampled=sampled)
    assert result.status == "written", result.reason
    assert b_value not in out and DERIVATION_CODE_SEQUENCE not in out
    reasons = {item.path: item.reason for item in result.review}
    assert "stored as UN" in reasons["DiffusionBValue"] and "removed" in reasons["DiffusionBValue"]
    assert "not a sequence" in reasons["DerivationCodeSequence"]
    assert b"Smith" not in data


# -- 2. private sequences the dictionary does not know (implicit VR, Retain Safe Private) -----

SAFE = DeidentifyOptions(retain_safe_private=True)
PHILIPS = b"Philips Imaging DD 001"
IMAGE_CURVE = 0x20011066   # Table E.3.10-1: SQ; in neither pydicom's private dictionary


def private_block(group: int, creator: bytes, elements: dict, implicit_vr: bool = True) -> dict:
    """Overrides for a private block 0x10: its creator and {element low byte: (VR, value bytes)}."""
    overrides = {(group << 16) | 0x0010: implicit((group << 16) | 0x0010, creator) if implicit_vr
                 else explicit((group << 16) | 0x0010, "LO", creator)}
    for low, (vr, value) in elements.items():
        tag = (group << 16) | 0x1000 | low
        overrides[tag] = implicit(tag, value, vr=vr) if implicit_vr else explicit(tag, vr, value)
    return overrides


@both_ways
@pytest.mark.parametrize("undefined", [False, True], ids=["defined", "undefined"])
def test_a_safe_private_sequence_in_implicit_vr_is_parsed_and_walked(tmp_path, sampled, undefined):
    inner = (CODE + implicit(0x00091010, b"ACME 1.0") + implicit(0x00091020, b"Smith^Hidden")   # creator kept
             + implicit(0x00111020, b"Smith^NoCreator"))                                            # no creator
    value = sequence_value([item(inner, undefined)], undefined)
    overrides = private_block(0x2001, PHILIPS, {})
    overrides[IMAGE_CURVE] = implicit(IMAGE_CURVE, value, undefined)
    result, out, data = run(tmp_path, overrides, SAFE, sampled, IMPLICIT_LE)
    assert result.status == "written", result.reason
    curve = as_sequence(out, IMAGE_CURVE)   # the output is implicit VR too: pydicom reads UN
    assert len(curve) == 1
    code = curve[0]
    assert code.CodeValue == "113072" and code[SECONDARY_REVIEWER_NAME].value == ""
    assert not [tag for tag in code.keys() if tag.is_private]   # neither private element is safe
    assert b"Smith" not in data
    kept = [r for r in result.review if r.path.startswith("(2001,1066)")]
    assert kept and kept[0].value == "<sequence of 1 items>"
    assert kept[0].vr == "SQ"   # a plain VR, also where pydicom 2.4 read it (its VR enum prints 'VR.SQ')


@both_ways
@pytest.mark.parametrize("implicit_vr", [True, False], ids=["implicit", "explicit"])
def test_safe_private_bytes_no_vr_explains_are_removed_with_a_review_item(tmp_path, sampled, implicit_vr):
    # a user-listed safe attribute (no VR anywhere) holding bytes that are not a sequence
    options = DeidentifyOptions(retain_safe_private=True, extra_safe_private=((0x0009, "ACME 1.0", 0x30),))
    overrides = private_block(0x0009, b"ACME 1.0", {0x30: ("UN", b"Smith^Opaque")}, implicit_vr)
    result, out, data = run(tmp_path, overrides, options, sampled, IMPLICIT_LE if implicit_vr else
                            "1.2.840.10008.1.2.1")
    assert result.status == "written", result.reason
    assert 0x00091030 not in out and b"Smith" not in data
    assert any(r.path == "(0009,1030)" and "could not be parsed" in r.reason and "removed" in r.reason
               for r in result.review)


# -- 3. VR conflicts between the safe table and pydicom's private dictionaries ----------------

def safe_entries():
    import json
    from DicomDeidentifyLib.tables import DATA_DIR
    return json.loads((DATA_DIR / "ps315_safe_private.json").read_text(encoding="utf-8"))["attributes"]


def value_for(vr: str) -> bytes:
    import struct
    return {"FL": struct.pack("<f", 1.5), "FD": struct.pack("<d", 2.5), "CS": b"SAFE", "US": b"\x07\x00",
            "LO": b"SAFE VALUE", "UL": b"\x07\x00\x00\x00", "SS": b"\xff\xff", "IS": b"12", "DS": b"1.5 ",
            "OB": b"\x01\x02", "SL": b"\x07\x00\x00\x00", "SH": b"SAFE", "UI": b"1.2.3.4\x00", "ST": b"SAFE TEXT",
            "OW/OB": b"\x01\x02", "AT": b"\x10\x00\x10\x00", "OW": b"\x01\x02", "LT": b"SAFE TEXT",
            "SQ": item(implicit(0x00080100, b"113072")), "": b"\x01\x02\x03\x04"}[vr]


def test_every_safe_private_entry_in_implicit_vr_is_kept_as_read_or_removed_with_a_review_item(tmp_path):
    from pydicom.datadict import private_dictionary_VR
    blocks, overrides, expected, conflicts = {}, {}, {}, 0
    for entry in safe_entries():
        group, creator = int(entry["group"], 16), entry["creator"]
        if (group, creator) not in blocks:
            blocks[(group, creator)] = 0x10 + sum(1 for g, _c in blocks if g == group)
            creator_tag = (group << 16) | blocks[(group, creator)]
            overrides[creator_tag] = implicit(creator_tag, creator.encode())
        tag = (group << 16) | (blocks[(group, creator)] << 8) | int(entry["element"], 16)
        value = value_for(entry["vr"])
        overrides[tag] = implicit(tag, value, vr=entry["vr"])
        expected[tag] = (entry["vr"], value)
        try:
            conflicts += private_dictionary_VR(tag, creator) not in (entry["vr"], "")
        except KeyError:
            pass
    assert conflicts >= 2   # both pydicom versions disagree with the table on some entries
    for sampled in (True, False):
        result, out, _ = run(tmp_path / str(sampled), overrides, SAFE, sampled, IMPLICIT_LE)
        assert result.status == "written", result.reason
        reviewed = {r.path for r in result.review if "removed" in r.reason}
        for tag, (vr, value) in expected.items():
            where = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
            if tag not in out:
                assert where in reviewed, where
                continue
            if vr == "SQ":
                assert as_sequence(out, tag)[0].CodeValue == "113072", where
            else:
                stored = out.get_item(tag)
                assert stored.value == value + (b" " if len(value) % 2 else b""), where


@both_ways
def test_a_value_the_safe_table_and_pydicom_type_differently_is_kept_as_read(tmp_path, sampled):
    # the table's DS / pydicom 3's FD, UL / CS, SH / LO
    conflicting = [e for e in safe_entries() if (e["group"], e["element"], e["creator"]) in
                   (("01F1", "26", "ELSCINT1"), ("2001", "55", "Philips Imaging DD 001"),
                    ("7E01", "02", "HOLOGIC, Inc."))]
    assert len(conflicting) == 3
    blocks, overrides, expected = {}, {}, {}
    for entry in conflicting:
        group = int(entry["group"], 16)
        block = blocks.setdefault((group, entry["creator"]), 0x10 + len([g for g, _ in blocks if g == group]))
        overrides[(group << 16) | block] = implicit((group << 16) | block, entry["creator"].encode())
        tag = (group << 16) | (block << 8) | int(entry["element"], 16)
        overrides[tag] = implicit(tag, value_for(entry["vr"]), vr=entry["vr"])
        expected[tag] = value_for(entry["vr"])
    result, out, _ = run(tmp_path, overrides, SAFE, sampled, IMPLICIT_LE)
    assert result.status == "written", result.reason
    for tag, value in expected.items():
        assert out.get_item(tag).value == value, hex(tag)


# -- 4. one reading of the structure ------------------------------------------------------------

def swallowing_element(tag: int, swallowed: bytes) -> bytes:
    """An element whose VR bytes are not letters: read as explicit VR it is empty and followed by
    `swallowed`; read as pydicom reads such bytes (implicit VR, a 32-bit length) its value is
    `swallowed`."""
    import struct
    return struct.pack("<HHHH", tag >> 16, tag & 0xFFFF, len(swallowed), 0) + swallowed


IDENTITY = (explicit(0x00100010, "PN", b"Doe^Jonathan") + explicit(0x00100020, "LO", b"MRN7781")
            + explicit(0x00100030, "DA", b"19640212"))
NO_IDENTITY = {0x00100010: None, 0x00100020: None, 0x00100030: None}


@both_ways
def test_vr_bytes_that_are_not_letters_fail_the_file_with_the_element_named(tmp_path, sampled):
    overrides = {**NO_IDENTITY, 0x00081090: swallowing_element(0x00081090, IDENTITY)}
    result, _out, _data = run(tmp_path, overrides, sampled=sampled)
    assert result.status == "failed"
    assert "(0008,1090)" in result.reason and "not a VR" in result.reason
    assert "Jonathan" not in result.reason
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*"))


@both_ways
def test_vr_bytes_that_are_not_letters_inside_a_sequence_fail_the_file(tmp_path, sampled):
    body = swallowing_element(0x00080100, explicit(0x00140104, "PN", NAME))
    overrides = {DERIVATION_CODE_SEQUENCE: explicit(DERIVATION_CODE_SEQUENCE, "SQ", sequence_value([item(body)]))}
    result, _out, _data = run(tmp_path, overrides, sampled=sampled)
    assert result.status == "failed" and "(0008,0100)" in result.reason


@both_ways
def test_letters_that_are_no_vr_are_judged_as_the_dictionary_vr(tmp_path, sampled):
    """VR bytes that are capital letters but no VR of PS3.5 ('LK', 'ZZ'): the element is judged as its
    dictionary VR, like one stored as UN (a name emptied, a kept value written with its real VR); a
    tag no dictionary knows goes. No output element keeps a VR that is not one."""
    software = 0x00181020   # Software Versions, LO
    overrides = {SECONDARY_REVIEWER_NAME: explicit(SECONDARY_REVIEWER_NAME, "LK", NAME),
                 software: explicit(software, "ZZ", b"V3.51*P25")}
    result, out, data = run(tmp_path, overrides, sampled=sampled)
    assert result.status == "written", result.reason
    assert out[SECONDARY_REVIEWER_NAME].VR == "PN" and out[SECONDARY_REVIEWER_NAME].value == ""
    assert b"Smith" not in data
    assert out[software].VR == "LO" and out[software].value == "V3.51*P25"
    from DicomDeidentifyLib.element_decoding import KNOWN_VRS

    def vrs(dataset):
        for element in dataset:
            yield str.__str__(element.VR) if isinstance(element.VR, str) else str(element.VR)
            if element.VR == "SQ":
                for child in element.value:
                    yield from vrs(child)
    assert set(vrs(out)) <= KNOWN_VRS


def test_a_parse_that_finds_other_top_level_elements_than_the_scan_fails():
    from DicomDeidentifyLib.dicom_io import DicomReadError, _check_agreement
    ds = read("CT_small.dcm")
    spans = [(int(tag), None, 0, 0, 0) for tag in ds.keys()]
    _check_agreement(spans, ds)   # the same elements: agreed
    del ds.PatientName
    with pytest.raises(DicomReadError, match=r"two ways.*\(0010,0010\)"):
        _check_agreement(spans, ds)


# -- the output check: the last line of defence -------------------------------------------------

def keep_person_names_by_vr(monkeypatch):
    """Plant a bug: person names not in Table E.1-1 are kept, as the UN leak once kept them."""
    from DicomDeidentifyLib import engine as engine_module
    real = engine_module.Deidentifier._unlisted_action

    def buggy(self, tag, vr, keyword, mode):
        return (engine_module.A.KEEP, "unlisted") if vr == "PN" else real(self, tag, vr, keyword, mode)
    monkeypatch.setattr(engine_module.Deidentifier, "_unlisted_action", buggy)


@both_ways
@pytest.mark.parametrize("charset, name", [("", "Doe^Jonathan"), ("ISO_IR 192", "Müller^Jürgen"),
                                           ("ISO_IR 100", "Müller^Jürgen")])
def test_an_identifying_value_left_in_the_output_fails_the_file_and_the_run_goes_on(
        tmp_path, monkeypatch, sampled, charset, name):
    keep_person_names_by_vr(monkeypatch)
    from DicomDeidentifyLib.dicom_io import IMPLICIT_LITTLE
    ds = read("CT_small.dcm")
    ds.PatientName = name
    encoding = pydicom.charset.convert_encodings(charset or "ISO_IR 6")
    if charset:
        ds.SpecificCharacterSet = charset
    planted = pydicom.charset.encode_string(name, encoding)
    leaking = tmp_path / "leaking"
    result, _out, _ = run(leaking, {SECONDARY_REVIEWER_NAME: explicit(SECONDARY_REVIEWER_NAME, "PN", planted)},
                          sampled=sampled, dataset=ds)
    assert result.status == "failed"
    assert result.reason.startswith("output check failed") and "PatientName" in result.reason
    assert name.split("^")[0] not in result.reason and name.split("^")[1] not in result.reason
    assert not [p for p in (leaking / "out").rglob("*") if p.is_file()]   # no output, no partial file
    # the next file of the run (no planted name) is written
    clean, out, _ = run(tmp_path / "clean", {}, sampled=sampled)
    assert clean.status == "written" and out.PatientName != "CompressedSamples^CT1"
    assert IMPLICIT_LITTLE


@both_ways
def test_an_original_date_left_in_the_output_fails_the_file(tmp_path, monkeypatch, sampled):
    from DicomDeidentifyLib import engine as engine_module
    real = engine_module.Deidentifier._unlisted_action
    monkeypatch.setattr(engine_module.Deidentifier, "_unlisted_action",
                        lambda self, tag, vr, keyword, mode: (engine_module.A.KEEP, "unlisted")
                        if vr in ("DA", "DT") else real(self, tag, vr, keyword, mode))
    ds = read("CT_small.dcm")
    study_date = ds.StudyDate   # listed (Z under the basic profile): emptied, and searched for
    result, _out, _ = run(tmp_path, {STUDY_UPDATE_DATE_TIME: explicit(STUDY_UPDATE_DATE_TIME, "DT",
                                                                      study_date.encode() + b"101010")},
                          sampled=sampled, dataset=ds)
    assert result.status == "failed" and "output check failed" in result.reason
    assert study_date not in result.reason


@both_ways
def test_free_text_also_kept_as_a_code_meaning_does_not_fail_the_file(tmp_path, sampled):
    ds = read("CT_small.dcm")
    ds.StudyDescription = "CT BRAIN WO IVCON"   # removed under the basic profile
    code = (explicit(0x00080100, "SH", b"CTHEAD") + explicit(0x00080102, "SH", b"99LOCAL")
            + explicit(0x00080104, "LO", b"CT BRAIN WO IVCON"))
    overrides = {0x00081032: explicit(0x00081032, "SQ", sequence_value([item(code)]))}   # Procedure Code Sequence
    result, out, _ = run(tmp_path, overrides, sampled=sampled, dataset=ds)
    assert result.status == "written", result.reason
    assert "StudyDescription" not in out and out.ProcedureCodeSequence[0].CodeMeaning == "CT BRAIN WO IVCON"


@both_ways
@pytest.mark.parametrize("tag, stored, value, expected", [
    (SECONDARY_REVIEWER_NAME, "LO", NAME, ""),                         # a person name stored as LO
    (STUDY_UPDATE_DATE_TIME, "LO", b"20170801123000", ""),             # a date-time stored as LO
    (0x00081155, "LO", UID.encode(), Deidentifier(DeidentifyOptions(), KEY).map_uid(UID)),   # a UID as LO
])
def test_a_name_date_or_uid_stored_as_another_text_vr_is_judged_as_what_it_is(tmp_path, sampled, tag, stored,
                                                                              value, expected):
    result, out, data = run(tmp_path, {tag: explicit(tag, stored, value)}, sampled=sampled)
    assert result.status == "written", result.reason
    assert out[tag].value == expected
    assert value not in data


def test_the_output_check_reads_headers_longer_than_its_first_read(tmp_path, monkeypatch):
    from DicomDeidentifyLib import output_check
    keep_person_names_by_vr(monkeypatch)
    ds = read("CT_small.dcm")
    ds.PatientName = "Doe^Jonathan"
    # Long Code Value (UC, kept) before the planted name: the name lies beyond the first read
    long_text = explicit(0x00080119, "UC", b"x" * (output_check.FRONT_READ + 1000))
    result, _out, _ = run(tmp_path, {0x00080119: long_text,
                                     SECONDARY_REVIEWER_NAME: explicit(SECONDARY_REVIEWER_NAME, "PN", b"Doe^Jonathan")},
                          dataset=ds)
    assert result.status == "failed" and "PatientName" in result.reason


# -- F3, F9 (review of issue 13): any VR other than the dictionary's, binary ones included ----

BINARY_VRS = ("OB", "OW", "OF", "FD", "FL", "US", "SS", "UL", "SL", "AT", "UN")
STUDY_DATE, SERIES_DESCRIPTION, PATIENT_NAME, PATIENT_ID = 0x00080020, 0x0008103E, 0x00100010, 0x00100020
MODIFIED = DeidentifyOptions(dates="modified", clean_descriptors=True)


def stored_as(tag: int, vr: str, value: bytes) -> bytes:
    return un(tag, value) if vr == "UN" else explicit(tag, vr, value)


@both_ways
@pytest.mark.parametrize("vr", BINARY_VRS)
def test_a_date_stored_as_a_binary_vr_is_shifted_as_a_date_and_written_as_da(tmp_path, sampled, vr):
    value = b"19990923"   # eight bytes: a whole number of values of every binary VR
    _, plain, _ = run(tmp_path / "plain", {STUDY_DATE: explicit(STUDY_DATE, "DA", value)}, MODIFIED, sampled)
    result, out, data = run(tmp_path / "binary", {STUDY_DATE: stored_as(STUDY_DATE, vr, value)}, MODIFIED, sampled)
    assert result.status == "written", result.reason
    assert out[STUDY_DATE].VR == "DA" and out.StudyDate == plain.StudyDate != "19990923"
    assert value not in data


@both_ways
@pytest.mark.parametrize("vr", BINARY_VRS)
def test_free_text_stored_as_a_binary_vr_is_cleaned_under_clean_descriptors(tmp_path, sampled, vr):
    value = b"Study of 23 Sep 1999 ok "   # 24 bytes
    result, out, data = run(tmp_path, {SERIES_DESCRIPTION: stored_as(SERIES_DESCRIPTION, vr, value)}, MODIFIED,
                            sampled)
    assert result.status == "written", result.reason
    assert out[SERIES_DESCRIPTION].VR == "LO"
    assert "Sep" not in out.SeriesDescription and b"1999" not in data


@both_ways
@pytest.mark.parametrize("vr", BINARY_VRS)
def test_a_name_and_id_stored_as_a_binary_vr_are_replaced_like_any_other(tmp_path, sampled, vr):
    name, patient_id = b"Doe^Jonathan Rex", b"MRN-7781-2244-XY"   # 16 bytes each
    _, plain, _ = run(tmp_path / "plain", {PATIENT_NAME: explicit(PATIENT_NAME, "PN", name),
                                           PATIENT_ID: explicit(PATIENT_ID, "LO", patient_id)}, sampled=sampled)
    result, out, data = run(tmp_path / "binary", {PATIENT_NAME: stored_as(PATIENT_NAME, vr, name),
                                                  PATIENT_ID: stored_as(PATIENT_ID, vr, patient_id)}, sampled=sampled)
    assert result.status == "written", result.reason
    assert out[PATIENT_NAME].VR == "PN" and out[PATIENT_ID].VR == "LO"
    # decoded as PN and LO before the identity was read: the same pseudonyms as the plain file
    assert (out.PatientName, out.PatientID) == (plain.PatientName, plain.PatientID)
    assert b"Jonathan" not in data and b"7781-2244" not in data


@both_ways
def test_binary_vrs_inside_a_sequence_are_judged_as_their_dictionary_vr(tmp_path, sampled):
    reference = (explicit(0x00081150, "UI", CT_IMAGE.encode()) + explicit(0x00081155, "OB", UID.encode() + b"\x00")
                 + explicit(SECONDARY_REVIEWER_NAME, "FD", b"Doe^Jonathan Rex")
                 + explicit(STUDY_UPDATE_DATE_TIME, "US", b"20170801123000"))
    sequence = explicit(REFERENCED_IMAGE_SEQUENCE, "SQ", sequence_value([item(reference)]))
    result, out, data = run(tmp_path, {REFERENCED_IMAGE_SEQUENCE: sequence}, sampled=sampled)
    assert result.status == "written", result.reason
    reference = out.ReferencedImageSequence[0]
    assert reference.ReferencedSOPInstanceUID == Deidentifier(DeidentifyOptions(), KEY).map_uid(UID)
    assert reference[0x00081155].VR == "UI" and reference[SECONDARY_REVIEWER_NAME].VR == "PN"
    assert reference[SECONDARY_REVIEWER_NAME].value == ""
    assert STUDY_UPDATE_DATE_TIME not in reference or reference[STUDY_UPDATE_DATE_TIME].value == ""
    assert UID.encode() not in data and b"Jonathan" not in data and b"20170801" not in data


@both_ways
@pytest.mark.parametrize("tag, keyword, element", [
    (PATIENT_NAME, "PatientName", explicit(PATIENT_NAME, "SQ", sequence_value([item(explicit(
        PATIENT_NAME, "PN", b"Zanzibar^Q"))]))),                                      # a name as a sequence
    (0x00189087, "DiffusionBValue", explicit(0x00189087, "OB", b"Zanzibar1X")),       # ten bytes: no FD
    (STUDY_DATE, "StudyDate", explicit(STUDY_DATE, "FD", b"Zanzibar")),               # not a date
    (REFERENCED_IMAGE_SEQUENCE, "ReferencedImageSequence", explicit(REFERENCED_IMAGE_SEQUENCE, "OB",
                                                                   b"Zanzibar in no item")),
], ids=["name-as-SQ", "FD-as-OB", "date-as-FD", "sequence-as-OB"])
def test_bytes_that_are_no_value_of_the_dictionary_vr_are_removed_and_reported_without_the_value(
        tmp_path, sampled, tag, keyword, element):
    result, out, data = run(tmp_path, {tag: element}, MODIFIED, sampled)
    assert result.status == "written", result.reason
    assert tag not in out or out[tag].value in ("", None)
    assert b"Zanzibar" not in data
    said = [(item.path, item.reason, item.value) for item in result.review]
    assert any(path == keyword for path, _, _ in said), said
    assert not any("Zanzibar" in f"{reason} {example}" for _, reason, example in said)


# -- F4: no value reaches a reason, the report, the linkage store or the console through an exception's text

PLANTED = b"Zanzibar"


def planted_files(folder: Path) -> None:
    ct = read("CT_small.dcm")
    folder.mkdir(parents=True)
    cases = {"sex_fd": {0x00100040: explicit(0x00100040, "FD", b"Shelbyville Zanzibar")},   # 20 bytes: no FD
             "bvalue_ob": {0x00189087: explicit(0x00189087, "OB", PLANTED + b"1X")},
             "date_fd": {STUDY_DATE: explicit(STUDY_DATE, "FD", PLANTED)},
             "name_sq": {PATIENT_NAME: explicit(PATIENT_NAME, "SQ", sequence_value([item(explicit(
                 PATIENT_NAME, "PN", PLANTED + b"^Q"))]))},
             "weight_bad": {0x00101030: explicit(0x00101030, "DS", PLANTED)},          # fails pydicom's DS check
             "age_us": {0x00101010: explicit(0x00101010, "US", PLANTED[:3] + b"Y")}}
    for name, overrides in cases.items():
        (folder / f"{name}.dcm").write_bytes(file_from(ct, overrides))


@pytest.mark.parametrize("linkage", [True, False], ids=["linkage", "no-linkage"])
def test_no_planted_value_reaches_the_key_folder_or_the_console_through_an_error(tmp_path, linkage):
    import os
    import subprocess
    import sys
    planted_files(tmp_path / "in")
    args = [sys.executable, "-m", "DicomDeidentifyLib", "anonymize", tmp_path / "in", "--output", tmp_path / "out",
            "--key-file", tmp_path / "k" / "key", "--create-key", "--verbose", "--retain-dates", "modified",
            "--clean-descriptors"] + ([] if linkage else ["--no-linkage"])
    done = subprocess.run([str(a) for a in args], capture_output=True, timeout=300, env=dict(os.environ))
    assert done.returncode in (0, 1), done.stderr
    assert b"6 files" in done.stdout
    assert PLANTED not in done.stdout and PLANTED not in done.stderr
    import json
    reports = list((tmp_path / "k").rglob("report.json"))
    assert reports
    report = json.loads(reports[0].read_text())
    files = [entry for entry in report.get("files", [])]
    text = json.dumps({"review": report.get("review"), "files": [
        {key: value for key, value in entry.items() if key != "changes"} for entry in files]})
    assert "Zanzibar" not in text   # no reason, review item or example quotes it
    linkage_store = tmp_path / "k" / "linkage.sqlite"
    assert not linkage_store.exists() or PLANTED not in linkage_store.read_bytes()
    if not linkage:   # no original value anywhere under the key folder
        for path in (tmp_path / "k").rglob("*"):
            if path.is_file():
                assert PLANTED not in path.read_bytes(), path


# -- values the profile keeps elsewhere (review of issue 13, F8) -----------------------------------

KEPT_ELSEWHERE_FILES = ["test-SR.dcm", "OBXXXX1A.dcm", "OBXXXX1A_2frame.dcm", "OBXXXX1A_rle.dcm",
                        "OBXXXX1A_rle_2frame.dcm", "OBXXXX1A_expb.dcm", "OBXXXX1A_expb_2frame.dcm",
                        "emri_small.dcm", "emri_small_big_endian.dcm", "emri_small_RLE.dcm",
                        "emri_small_jpeg_2k_lossless.dcm", "emri_small_jpeg_ls_lossless.dcm"]
RETAINING = {"retain-uids": DeidentifyOptions(retain_uids=True),
             "retain-dates-full": DeidentifyOptions(dates="full"),
             "both": DeidentifyOptions(retain_uids=True, dates="full")}


@both_ways
@pytest.mark.parametrize("options", list(RETAINING))
def test_real_files_whose_removed_values_are_also_kept_elsewhere_are_written(tmp_path, options, sampled):
    """test-SR's content item UID 1.2.3.4.5 is also a Referenced SOP Instance UID (kept under
    Retain UIDs), OBXXXX1A's removed private attribute holds the root of its kept UIDs, and
    emri_small's birth date is its study date (kept under Retain Full Dates): each output
    holds the value only where the profile kept it, so it is written."""
    from support.data import data_file
    engine = Deidentifier(RETAINING[options], KEY)
    engine.record_changes = sampled
    for name in KEPT_ELSEWHERE_FILES:
        result = deidentify_file(engine, data_file(name), tmp_path / name)
        assert result.status == "written", (name, result.reason)


def _planted(tmp_path, name: str, value: str) -> Path:
    """The real file `name` with `value` also in Convolution Kernel (SH, kept by every profile)."""
    from support.data import save
    ds = read(name)
    ds.ConvolutionKernel = value
    path = tmp_path / f"planted-{name}"
    save(ds, path)
    return path


@both_ways
def test_a_kept_value_that_also_survives_elsewhere_still_fails_under_the_retain_options(tmp_path, sampled):
    """The same files with the protected value once more in a kept text attribute: more often in
    the output than in the values the profile kept, so the file fails, naming the attribute."""
    birth = read("emri_small.dcm").PatientBirthDate   # = its Study Date
    content_uid = read("test-SR.dcm").ContentSequence[0].UID   # = a kept Referenced SOP Instance UID
    for options, name, value, attribute in [("retain-dates-full", "emri_small.dcm", birth, "PatientBirthDate"),
                                            ("both", "emri_small.dcm", birth, "PatientBirthDate"),
                                            ("retain-uids", "test-SR.dcm", content_uid, "ContentSequence[0].UID"),
                                            ("both", "test-SR.dcm", content_uid, "ContentSequence[0].UID")]:
        engine = Deidentifier(RETAINING[options], KEY)
        engine.record_changes = sampled
        out = tmp_path / options / name
        result = deidentify_file(engine, _planted(tmp_path, name, value), out)
        assert result.status == "failed" and "output check failed" in result.reason, (options, name, result.reason)
        assert attribute in result.reason and value not in result.reason
        assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]
