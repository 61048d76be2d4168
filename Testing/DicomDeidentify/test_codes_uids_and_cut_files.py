"""Issue 13, items 5, 10 and 12: coded person identifiers, UIDs under the standard's root, dummies
of every VR, and files cut short or holding nothing but their file meta.

Inputs are pydicom's CT_small with elements added (pydicom encodes them) or re-encoded byte by
byte (support/encodings.py). Each engine test runs both ways the engine reads a file: the
sampled way (every element parsed, changes recorded) and the fast way.
"""
import re
import zlib

import pydicom
import pytest
from pydicom import config
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.valuerep import validate_value

from DicomDeidentifyLib import Deidentifier, DeidentifyOptions
from DicomDeidentifyLib.actions import COMPOUND, DUMMY
from DicomDeidentifyLib.structure_check import body_offset
from DicomDeidentifyLib.tables import profile_table
from support.data import KEY, deidentify_source, read, save
from support.encodings import EXPLICIT_LE, IMPLICIT_LE, body, file_from, part10

STAFF, STAFF_NAME = "STAFF4711", "Jonathan Doe"
both_ways = pytest.mark.parametrize("sampled", [True, False], ids=["sampled", "fast"])


def run_dataset(tmp_path, dataset, options=None, sampled=True):
    """De-identify `dataset` written as a file: (result, output data set or None, output bytes)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "in.dcm"
    save(dataset, source)
    return run_file(tmp_path, source, options, sampled)


def run_file(tmp_path, source, options=None, sampled=True):
    return deidentify_source(source, tmp_path / "out", options, sampled)


def no_output(tmp_path) -> bool:
    return not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]


def code(value, meaning, scheme="99STAFF"):
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def is_dummy_code(item) -> bool:
    """A valid Code Sequence Macro item (PS3.3 Table 8.8-1) holding the dummy code, nothing else."""
    return (sorted(item.dir()) == ["CodeMeaning", "CodeValue", "CodingSchemeDesignator"]
            and (item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning)
            == ("ANONYMIZED", "99ANONYMIZED", "ANONYMIZED"))


# -- 5. coded person identifiers ------------------------------------------------------------------

def coded_identifiers_dataset():
    """Person Identification Code Sequence (D) and Institution Code Sequence (X/Z/D) at the top,
    inside Operator Identification Sequence (X/D), inside an SR Content Sequence item (D) and inside
    a Request Attributes Sequence item (X), each with its own staff code and name."""
    ds = read("CT_small.dcm")
    ds.PersonIdentificationCodeSequence = [code(STAFF, STAFF_NAME)]
    ds.InstitutionCodeSequence = [code("INST9801", "Shelbyville General Hospital")]
    operator = Dataset()
    operator.PersonIdentificationCodeSequence = [code("STAFF4712", "Mary Major")]
    operator.InstitutionCodeSequence = [code("INST9802", "Springfield General Hospital")]
    ds.OperatorIdentificationSequence = [operator]
    observer = Dataset()
    observer.ValueType, observer.PersonName = "PNAME", "Roe^Richard"
    observer.ConceptNameCodeSequence = [code("121008", "Person Observer Name", "DCM")]
    observer.PersonIdentificationCodeSequence = [code("STAFF4713", "Richard Roe"), code("STAFF4714", "R. Roe")]
    ds.ContentSequence = [observer]
    request = Dataset()
    request.RequestedProcedureID = "RP1"
    physician = Dataset()
    physician.PersonIdentificationCodeSequence = [code("STAFF4715", "Sam Smith")]
    request.ScheduledPerformingPhysicianIdentificationSequence = [physician]
    ds.RequestAttributesSequence = [request]
    return ds


LEAKS = [STAFF.encode(), b"STAFF471", b"Jonathan", b"Mary Major", b"Richard Roe", b"R. Roe", b"Sam Smith",
         b"Shelbyville", b"Springfield", b"INST980"]


@both_ways
@pytest.mark.parametrize("options", [DeidentifyOptions(), DeidentifyOptions(clean_structured_content=True),
                                     DeidentifyOptions(clean_descriptors=True)],
                         ids=["basic", "clean-structured-content", "clean-descriptors"])
def test_coded_person_and_institution_identifiers_get_a_dummy_code_at_every_depth(tmp_path, sampled, options):
    result, out, data = run_dataset(tmp_path, coded_identifiers_dataset(), options, sampled)
    assert result.status == "written", result.reason
    assert [is_dummy_code(i) for i in out.PersonIdentificationCodeSequence] == [True]
    assert [is_dummy_code(i) for i in out.InstitutionCodeSequence] == [True]
    operator = out.OperatorIdentificationSequence[0]
    assert [is_dummy_code(i) for i in operator.PersonIdentificationCodeSequence] == [True]
    assert [is_dummy_code(i) for i in operator.InstitutionCodeSequence] == [True]
    observer = out.ContentSequence[0]
    assert [is_dummy_code(i) for i in observer.PersonIdentificationCodeSequence] == [True]   # one dummy for two
    concept = observer.ConceptNameCodeSequence[0]   # vocabulary, not an identifier: kept
    assert (concept.CodeValue, concept.CodingSchemeDesignator, concept.CodeMeaning) == \
        ("121008", "DCM", "Person Observer Name")
    if options.clean_descriptors:   # Request Attributes Sequence is cleaned, its physician's sequence (X) goes
        assert "ScheduledPerformingPhysicianIdentificationSequence" not in out.RequestAttributesSequence[0]
    else:
        assert "RequestAttributesSequence" not in out
    for leak in LEAKS:
        assert leak not in data, leak
    if sampled:
        assert "PersonIdentificationCodeSequence" in result.replaced
        assert "OperatorIdentificationSequence[0].PersonIdentificationCodeSequence" in result.replaced


@both_ways
def test_a_coded_identifier_stored_as_un_in_implicit_vr_gets_the_dummy_code_too(tmp_path, sampled):
    from support.encodings import implicit, item, sequence_value, un
    value = sequence_value([item(implicit(0x00080100, STAFF.encode()) + implicit(0x00080102, b"99STAFF")
                                 + implicit(0x00080104, STAFF_NAME.encode()))])
    source = tmp_path / "in.dcm"
    source.write_bytes(file_from(read("CT_small.dcm"), {0x00401101: un(0x00401101, value)}))
    result, out, data = run_file(tmp_path, source, sampled=sampled)
    assert result.status == "written", result.reason
    assert [is_dummy_code(i) for i in out.PersonIdentificationCodeSequence] == [True]
    assert STAFF.encode() not in data and b"Jonathan" not in data


def test_every_code_sequence_the_table_replaces_by_a_dummy_gets_the_dummy_code():
    """Every sequence whose items are codes ('... Code Sequence') and whose action resolves to D
    under some option set, at the top and nested in a replaced sequence; the others with D keep
    their structure (their free text replaced, as before)."""
    table, coded = profile_table(), []
    for option in (DeidentifyOptions(), DeidentifyOptions(clean_structured_content=True)):
        engine = Deidentifier(option, KEY)
        for tag, row in table._exact.items():
            try:
                vr = dictionary_VR(tag)
            except KeyError:
                continue
            keyword = pydicom.datadict.keyword_for_tag(tag)
            if vr == "SQ" and keyword.endswith("CodeSequence") and engine.decide(tag, vr)[0] == DUMMY:
                coded.append(keyword)
    assert {"PersonIdentificationCodeSequence", "InstitutionCodeSequence"} <= set(coded)
    for keyword in sorted(set(coded)):
        ds = Dataset()
        setattr(ds, keyword, [code(STAFF, STAFF_NAME)])
        holder = Dataset()
        setattr(holder, keyword, [code(STAFF, STAFF_NAME)])
        ds.OperatorIdentificationSequence = [holder]
        result = Deidentifier(DeidentifyOptions(), KEY).deidentify(ds)
        assert [is_dummy_code(i) for i in ds[keyword].value] == [True], keyword
        assert [is_dummy_code(i) for i in ds.OperatorIdentificationSequence[0][keyword].value] == [True], keyword
        assert keyword in result.replaced


@both_ways
def test_a_staff_code_the_output_still_holds_fails_the_file_naming_the_sequence(tmp_path, sampled):
    """The output check searches the codes and names of coded identifiers, replaced (D) or inside
    a removed sequence (X): planted in a kept attribute (Convolution Kernel, unlisted), the file
    fails, the reason names the attribute and not the value."""
    replaced = coded_identifiers_dataset()
    replaced.ConvolutionKernel = STAFF
    result, _out, _ = run_dataset(tmp_path / "replaced", replaced, sampled=sampled)
    assert result.status == "failed" and "output check failed" in result.reason
    assert "PersonIdentificationCodeSequence" in result.reason and STAFF not in result.reason
    assert no_output(tmp_path / "replaced")
    removed = coded_identifiers_dataset()
    removed.ConvolutionKernel = "STAFF4715"   # the removed Request Attributes Sequence's physician
    result, _out, _ = run_dataset(tmp_path / "removed", removed, sampled=sampled)
    assert result.status == "failed" and "RequestAttributesSequence" in result.reason
    assert no_output(tmp_path / "removed")
    clean, out, _ = run_dataset(tmp_path / "clean", coded_identifiers_dataset(), sampled=sampled)
    assert clean.status == "written", clean.reason   # without the plant the same file passes


# -- 10. UIDs under the standard's root -------------------------------------------------------------

ROOT = "1.2.840.10008."
INSTANCE_UNDER_ROOT = {"StudyInstanceUID": ROOT + "999.1.1", "SeriesInstanceUID": ROOT + "999.1.2",
                       "SOPInstanceUID": ROOT + "999.1.3", "FrameOfReferenceUID": ROOT + "999.1.4"}
REFERENCED_UNDER_ROOT = ROOT + "999.1.5"
TALAIRACH = "1.2.840.10008.1.4.1.1"          # a well-known frame of reference (PS3.6 Annex A)
STORAGE_COMMITMENT = "1.2.840.10008.1.20.1.1"   # a well-known SOP instance
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"


def uids_dataset(frame_of_reference=None):
    ds = read("CT_small.dcm")
    for keyword, uid in INSTANCE_UNDER_ROOT.items():
        setattr(ds, keyword, uid)
    if frame_of_reference:
        ds.FrameOfReferenceUID = frame_of_reference
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    references = []
    for instance in (REFERENCED_UNDER_ROOT, STORAGE_COMMITMENT):
        reference = Dataset()
        reference.ReferencedSOPClassUID, reference.ReferencedSOPInstanceUID = CT_IMAGE, instance
        references.append(reference)
    ds.ReferencedImageSequence = references
    return ds


@both_ways
def test_instance_uids_under_the_standards_root_are_replaced_and_registry_uids_kept(tmp_path, sampled):
    result, out, data = run_dataset(tmp_path, uids_dataset(), sampled=sampled)
    assert result.status == "written", result.reason
    engine = Deidentifier(DeidentifyOptions(), KEY)
    for keyword, uid in INSTANCE_UNDER_ROOT.items():
        assert out[keyword].value == engine.map_uid(uid) != uid, keyword
        assert out[keyword].value.startswith("2.25.")
        assert uid.encode() not in data, keyword
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    first, second = out.ReferencedImageSequence
    assert first.ReferencedSOPInstanceUID == engine.map_uid(REFERENCED_UNDER_ROOT)
    assert REFERENCED_UNDER_ROOT.encode() not in data
    assert second.ReferencedSOPInstanceUID == STORAGE_COMMITMENT   # in the registry: kept
    assert first.ReferencedSOPClassUID == second.ReferencedSOPClassUID == out.SOPClassUID == CT_IMAGE
    assert out.file_meta.TransferSyntaxUID == EXPLICIT_LE


@both_ways
def test_a_well_known_frame_of_reference_is_kept(tmp_path, sampled):
    result, out, _ = run_dataset(tmp_path, uids_dataset(TALAIRACH), sampled=sampled)
    assert result.status == "written", result.reason
    assert out.FrameOfReferenceUID == TALAIRACH


def test_only_registry_uids_count_as_the_standards_own():
    from pydicom._uid_dict import UID_dictionary
    from DicomDeidentifyLib.uids import is_standard_uid
    assert all(is_standard_uid(uid) for uid in UID_dictionary)
    assert is_standard_uid(CT_IMAGE + "\x00") and is_standard_uid(TALAIRACH)
    for uid in [*INSTANCE_UNDER_ROOT.values(), ROOT + "5.1.4.1.1.2.99", "1.2.840.10008", "2.25.1"]:
        assert not is_standard_uid(uid), uid


@both_ways
def test_an_original_instance_uid_under_the_root_left_in_the_output_fails_the_file(tmp_path, sampled):
    ds = uids_dataset()
    planted = Dataset()   # a class UID attribute (kept by its keyword) holding the original SOP instance UID
    planted.ReferencedSOPClassUID, planted.ReferencedSOPInstanceUID = INSTANCE_UNDER_ROOT["SOPInstanceUID"], \
        STORAGE_COMMITMENT
    ds.ReferencedInstanceSequence = [planted]
    result, _out, _ = run_dataset(tmp_path, ds, sampled=sampled)
    assert result.status == "failed" and "output check failed" in result.reason
    assert "SOPInstanceUID" in result.reason and ROOT not in result.reason
    assert no_output(tmp_path)


# -- 12. dummies of every VR, and cut files -----------------------------------------------------------

SAMPLE_VALUES = {"DA": "20170801", "TM": "123000", "DT": "20170801123000", "LO": "Doe Jonathan",
                 "SH": "Doe J", "PN": "Doe^Jonathan", "UC": "Doe Jonathan", "OB": b"DOE\x00",
                 "UI": "1.2.826.0.1.3680043.9.7781.5", "ST": "Doe Jonathan", "AE": "DOEJ", "AS": "045Y",
                 "LT": "Doe Jonathan", "UN": b"DOE\x00", "UT": "Doe Jonathan", "UR": "http://doe.example/jonathan",
                 "CS": "DOE", "SQ": None}
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\\]+$")   # RFC 3986 3.1: a scheme, then no spaces


def dummy_rows():
    """(tag, keyword, VR) of every attribute of Table E.1-1 (not masked) whose action resolves to
    D under some option column, with its dictionary VR."""
    table, rows = profile_table(), []
    for tag, row in table._exact.items():
        codes = {COMPOUND.get(a, a) for a in row.actions.values()}
        if DUMMY not in codes:
            continue
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            continue
        rows.append((tag, pydicom.datadict.keyword_for_tag(tag), vr))
    return rows


def test_every_vr_that_the_table_replaces_by_a_dummy_has_a_valid_non_empty_dummy():
    from DicomDeidentifyLib.dummies import dummy_for
    vrs = {vr for _tag, _keyword, vr in dummy_rows()} - {"SQ"}
    assert {"UR", "UI", "UN", "OB", "DA", "DT", "TM", "PN", "AS", "CS", "AE"} <= vrs
    assert vrs <= set(SAMPLE_VALUES)
    for vr in vrs:
        value = dummy_for(vr)
        assert value not in ("", b"", None), vr
        validate_value(vr, value, config.RAISE)
    assert URI.match(dummy_for("UR"))


@both_ways
def test_every_attribute_the_basic_profile_replaces_by_a_dummy_gets_a_valid_non_empty_value(tmp_path, sampled):
    ds = read("CT_small.dcm")
    engine = Deidentifier(DeidentifyOptions(), KEY)
    expected = {}
    for tag, keyword, vr in dummy_rows():
        if vr == "SQ" or engine.decide(tag, vr)[0] not in (DUMMY, "U", "identity"):
            continue   # sequences: see item 5; rows whose D is an option column's
        ds.add_new(tag, vr, SAMPLE_VALUES[vr])
        expected[tag] = (keyword, vr)
    assert len(expected) > 80 and any(vr == "UR" for _k, vr in expected.values())
    result, out, data = run_dataset(tmp_path, ds, sampled=sampled)
    assert result.status == "written", result.reason
    for tag, (keyword, vr) in expected.items():
        element = out[tag]
        value = element.value
        assert value not in ("", b"", None), keyword
        assert value != SAMPLE_VALUES[vr] or vr == "OB" and value != b"DOE\x00", keyword
        if vr not in ("OB", "UN"):
            validate_value(vr, value, config.RAISE)
        if vr == "UR":
            assert URI.match(str(value)), keyword
        if vr == "UI":
            assert str(value).startswith("2.25.") and value == engine.map_uid(SAMPLE_VALUES["UI"]), keyword
    assert b"Jonathan" not in data and b"doe.example" not in data


def ct_file(transfer_syntax=EXPLICIT_LE) -> bytes:
    return file_from(read("CT_small.dcm"), {}, transfer_syntax)


def deflated(data_set: bytes) -> bytes:
    ds = read("CT_small.dcm")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return part10(compressor.compress(data_set) + compressor.flush(), pydicom.uid.DeflatedExplicitVRLittleEndian,
                  str(ds.SOPClassUID), str(ds.SOPInstanceUID))


def cut_files():
    """{name: (file bytes, words the reason must contain)}: meta-only files and data sets cut
    mid-element (in a header, in a value, in a sequence, in the pixel data), explicit, implicit
    and deflated."""
    explicit_file, implicit_file = ct_file(), ct_file(IMPLICIT_LE)
    start = body_offset(explicit_file)
    plain = body(read("CT_small.dcm"), {})
    group_length = b"\x08\x00\x00\x00UL\x04\x00\x04\x00\x00\x00"
    return {
        "meta-only": (explicit_file[:start], "no data elements"),
        "meta-only, implicit": (implicit_file[:body_offset(implicit_file)], "no data elements"),
        "meta-only, deflated": (deflated(b""), "no data elements"),
        "meta and a group length": (explicit_file[:start] + group_length, "no data elements"),
        "cut in the first header": (explicit_file[:start + 3], "no data elements"),
        "cut in a header": (explicit_file[:start + 200], "truncated"),
        "cut in a value": (explicit_file[:start + 40], "truncated"),
        "cut in a value, implicit": (implicit_file[:body_offset(implicit_file) + 40], "truncated"),
        "cut in the pixel data": (explicit_file[:-1000], "truncated"),
        "cut in a value, deflated": (deflated(plain[:310]), "truncated"),
        # cut at an element boundary: every length is right, the end is missing (review F6)
        "cut before the pixel data": (explicit_file[:span_of(explicit_file, PIXEL_DATA)[2]], "no Pixel Data"),
        "cut before the pixel data, implicit": (implicit_file[:span_of(implicit_file, PIXEL_DATA, True)[2]],
                                                "no Pixel Data"),
        "cut before the pixel data, deflated": (deflated(plain[:plain.index(b"\xe0\x7f\x10\x00")]),
                                                "no Pixel Data"),
        "cut after SOP Instance UID": (explicit_file[:span_of(explicit_file, SOP_INSTANCE_UID)[3]],
                                       "no Study Instance UID"),
    }


PIXEL_DATA, SOP_INSTANCE_UID = 0x7FE00010, 0x00080018


def span_of(data: bytes, tag: int, implicit: bool = False):
    """(tag, VR, start, end, length) of a top-level element, as the structure check finds it."""
    from DicomDeidentifyLib.structure_check import check_buffer
    return next(span for span in check_buffer(data, implicit, True) if span[0] == tag)


@both_ways
@pytest.mark.parametrize("name", list(cut_files()))
def test_meta_only_and_cut_files_fail_with_a_reason_and_nothing_is_written(tmp_path, sampled, name):
    data, words = cut_files()[name]
    source = tmp_path / "in.dcm"
    source.write_bytes(data)
    result, _out, _ = run_file(tmp_path, source, sampled=sampled)
    assert result.status == "failed", (name, result.status)
    assert words in result.reason, result.reason
    assert no_output(tmp_path)


@both_ways
def test_a_cut_file_names_what_is_missing_and_data_sets_without_pixels_or_study_still_go(tmp_path, sampled):
    """The reason says 'damaged or truncated' and the SOP class; an instance that never had an
    Image Pixel module (pydicom's DICOMDIR test records) or a Study module (its JPEG-LS test
    images: pixel data, no Patient or Study module) is not taken for a cut one."""
    data = ct_file()
    source = tmp_path / "cut.dcm"
    source.write_bytes(data[:span_of(data, PIXEL_DATA)[2]])
    result, _out, _ = run_file(tmp_path / "cut", source, sampled=sampled)
    assert result.reason.startswith("damaged or truncated: an image (CT Image Storage)"), result.reason
    header_only = read("CT_small.dcm")
    for keyword in [e.keyword for e in header_only if e.tag.group in (0x0028, 0x7FE0)]:
        delattr(header_only, keyword)
    result, out, _ = run_dataset(tmp_path / "header", header_only, sampled=sampled)
    assert result.status == "written" and "PixelData" not in out, result.reason
    no_study = read("CT_small.dcm")
    for keyword in [e.keyword for e in no_study if e.tag.group in (0x0010, 0x0020)]:
        delattr(no_study, keyword)
    result, out, _ = run_dataset(tmp_path / "nostudy", no_study, sampled=sampled)
    assert result.status == "written" and "StudyInstanceUID" not in out, result.reason


@both_ways
def test_jpeg_2000_pixel_data_cut_short_is_refused_as_truncated(tmp_path, sampled):
    """pydicom 3 reads emri_small_jpeg_2k_lossless_too_short.dcm as an empty data set, 2.4 as the
    elements before its pixel data: either way the reason is the end of the file, without its path."""
    from support.data import data_file
    result, _out, _ = run_file(tmp_path, data_file("emri_small_jpeg_2k_lossless_too_short.dcm"), sampled=sampled)
    assert result.status == "failed" and result.reason.startswith("truncated: end of file"), result.reason
    assert "(FFFE,E0DD)" in result.reason.upper().replace(", ", ",")
    assert "emri" not in result.reason and "/" not in result.reason


def test_a_whole_deflated_file_is_still_written(tmp_path):
    source = tmp_path / "in.dcm"
    source.write_bytes(deflated(body(read("CT_small.dcm"), {})))
    result, out, _ = run_file(tmp_path, source)
    assert result.status == "written", result.reason
    assert out.Rows == 128 and "PatientName" in out
