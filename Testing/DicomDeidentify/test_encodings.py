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
from support.data import KEY, read
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
    source = tmp_path / "in.dcm"
    source.write_bytes(file_from(ds, overrides, transfer_syntax))
    engine = Deidentifier(options or DeidentifyOptions(), KEY)
    engine.record_changes = sampled
    result = deidentify_file(engine, source, tmp_path / "out")
    if result.status != "written":
        return result, None, b""
    return result, pydicom.dcmread(result.output), Path(result.output).read_bytes()


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
