"""Each PS3.15 action code, resolved and applied, at the top level and inside sequences."""
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from DicomDeidentifyLib import DeidentifyOptions
from DicomDeidentifyLib.actions import ActionResolver
from DicomDeidentifyLib.tables import ProfileRow
from support.data import deidentify, read


def ct():
    """CT_small with identifying attributes added in the places real scanners put them."""
    ds = read("CT_small.dcm")
    ds.PatientName = "Doe^John"
    ds.PatientID = "MRN12345"
    ds.OtherPatientIDs = "OLD-998877"
    ds.ProtocolName = "Doe head protocol"
    ds.InstitutionName = "Springfield General"
    ds.ContentDate = "20240131"
    ds.StudyDate = "20240130"
    ds.SeriesDate = "20240131"
    ds.StudyDescription = "CT head for John Doe MRN12345 on 2024-01-30"
    ref = Dataset()
    ref.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ref.ReferencedSOPInstanceUID = "1.2.3.4.5.6.7.8"
    ds.ReferencedImageSequence = Sequence([ref])
    study_ref = Dataset()
    study_ref.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    study_ref.ReferencedSOPInstanceUID = "1.2.3.4.5.6.7.9"
    ds.ReferencedStudySequence = Sequence([study_ref])
    context = Dataset()
    context.ValueType = "TEXT"
    context.TextValue = "John Doe"
    ds.AcquisitionContextSequence = Sequence([context])
    return ds


@pytest.mark.parametrize("code, expected", [
    ("X/Z", "X/Z"), ("X/D", "D"), ("Z/D", "D"), ("X/Z/D", "D"), ("X/Z/U*", "U*"),
    ("X", "X"), ("Z", "Z"), ("D", "D"), ("U", "U"), ("K", "K"), ("C", "C"),
])
def test_compound_codes_resolve_to_one_conformant_action(code, expected):
    row = ProfileRow("(0000,0000)", "test", {"basic": code})
    assert ActionResolver(DeidentifyOptions()).resolve(row) == (expected, "basic")


def test_an_enabled_option_overrides_the_basic_action_and_clean_beats_keep():
    row = ProfileRow("(0018,1200)", "Date of Last Calibration",
                     {"basic": "X", "retain_device_identity": "K", "retain_long_modified_dates": "C"})
    assert ActionResolver(DeidentifyOptions()).resolve(row) == ("X", "basic")
    assert ActionResolver(DeidentifyOptions(retain_device_identity=True)).resolve(row) == ("K", "retain_device_identity")
    both = DeidentifyOptions(retain_device_identity=True, dates="modified")
    assert ActionResolver(both).resolve(row) == ("C", "retain_long_modified_dates")


def test_x_removes():
    out, result = deidentify(ct())
    assert "OtherPatientIDs" not in out
    assert "OtherPatientIDs" in result.removed


def test_z_empties_and_keeps_the_attribute():
    out, _ = deidentify(ct())
    assert "StudyDate" in out and not out.StudyDate
    assert "AccessionNumber" in out and not out.AccessionNumber


def test_d_puts_a_dummy_value():
    out, _ = deidentify(ct())
    assert out.ContentDate == "19000101"       # Z/D -> D
    assert out.ProtocolName == "ANONYMIZED"    # X/D -> D
    assert out.InstitutionName == "ANONYMIZED"  # X/Z/D -> D


def test_u_replaces_uids_with_keyed_2_25_values():
    original = ct()
    out, result = deidentify(original)
    for keyword in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
        new = str(out[keyword].value)
        assert new.startswith("2.25.") and len(new) <= 64 and new != str(original[keyword].value)
        assert result.uid_map[str(original[keyword].value)] == new
    assert out.SOPClassUID == original.SOPClassUID   # a class UID identifies nobody


def test_x_z_u_star_keeps_the_sequence_and_replaces_the_uids_inside():
    out, _ = deidentify(ct())
    item = out.ReferencedImageSequence[0]
    assert item.ReferencedSOPClassUID == "1.2.840.10008.5.1.4.1.1.2"
    assert item.ReferencedSOPInstanceUID.startswith("2.25.")


def test_x_z_on_a_type_3_sequence_removes_it_and_on_the_type_2_one_empties_it():
    out, _ = deidentify(ct())
    assert "ReferencedStudySequence" not in out
    assert "AcquisitionContextSequence" in out and len(out.AcquisitionContextSequence) == 0


def test_patient_identity_becomes_a_pseudonym():
    out, result = deidentify(ct())
    assert str(out.PatientName) != "Doe^John" and "^" in str(out.PatientName)
    assert out.PatientID.startswith("ANON") and out.PatientID != "MRN12345"
    assert result.patient["pseudonym_id"] == out.PatientID


def test_rules_apply_at_every_nesting_depth():
    ds = ct()
    inner = Dataset()
    inner.PatientName = "Doe^Jane"                     # PN inside an item
    inner.StudyDate = "20240101"                        # listed date inside an item
    inner.ReferencedSOPInstanceUID = "1.2.3.4.5.6.7.8"  # same UID as at the top: same new UID
    inner.OtherPatientIDs = "X123"
    middle = Dataset()
    middle.ReferencedImageSequence = Sequence([inner])
    ds.SourceImageSequence = Sequence([middle])
    out, _ = deidentify(ds)
    deep = out.SourceImageSequence[0].ReferencedImageSequence[0]
    assert str(deep.PatientName) == str(out.PatientName)
    assert "StudyDate" in deep and not deep.StudyDate
    assert "OtherPatientIDs" not in deep
    assert deep.ReferencedSOPInstanceUID == out.ReferencedImageSequence[0].ReferencedSOPInstanceUID


def test_free_text_inside_a_dummy_sequence_is_replaced_but_codes_stay():
    ds = read("test-SR.dcm")
    out, _ = deidentify(ds)

    def items(sequence):
        for item in sequence:
            yield item
            if "ContentSequence" in item:
                yield from items(item.ContentSequence)

    texts = [i.TextValue for i in items(out.ContentSequence) if "TextValue" in i]
    meanings = [i.ConceptNameCodeSequence[0].CodeMeaning for i in items(out.ContentSequence)
                if "ConceptNameCodeSequence" in i]
    assert texts and all(t == "ANONYMIZED" for t in texts)
    original_meanings = [i.ConceptNameCodeSequence[0].CodeMeaning for i in items(ds.ContentSequence)
                         if "ConceptNameCodeSequence" in i]
    assert meanings == original_meanings


def test_unknown_public_attributes_are_removed_and_reported():
    ds = ct()
    unknown = 0x0018FFF0   # a public tag no dictionary knows
    ds.add_new(unknown, "LO", "Doe")
    out, result = deidentify(ds)
    assert unknown not in out
    assert any("not in the DICOM dictionary" in r.reason for r in result.review)


def test_dates_and_uids_not_in_the_table_are_handled_by_their_vr():
    ds = ct()
    ds.DateOfGainCalibration = "20240131"             # (0014,3076) DA, not in Table E.1-1
    ds.TargetFrameOfReferenceUID = "1.2.3.999"        # (0018,991E) UI, not in Table E.1-1
    ds.RelatedGeneralSOPClassUID = "1.2.3.777"        # a class UID: identifies nobody
    out, _ = deidentify(ds)
    assert "DateOfGainCalibration" in out and not out.DateOfGainCalibration
    assert out.TargetFrameOfReferenceUID.startswith("2.25.")
    assert out.RelatedGeneralSOPClassUID == "1.2.3.777"
    full, _ = deidentify(ds, DeidentifyOptions(dates="full"))
    assert full.DateOfGainCalibration == "20240131"


def test_pixel_data_bytes_are_never_touched():
    ds = read("JPEG2000.dcm")
    out, _ = deidentify(ds)
    assert out.PixelData == ds.PixelData


def test_responsible_person_is_emptied_for_animals_and_removed_for_people():
    import deid_data
    from pathlib import Path
    import pydicom
    cat = pydicom.dcmread(str(Path(deid_data.__file__).parent / "data" / "animals" / "cat.dcm"))
    cat.ResponsiblePerson = "Owner^Olga"
    out, _ = deidentify(cat)
    assert "ResponsiblePerson" in out and not out.ResponsiblePerson   # Type 2C for animals
    person = ct()
    person.ResponsiblePerson = "Guardian^Gus"
    out, _ = deidentify(person)
    assert "ResponsiblePerson" not in out


def test_encrypted_original_attributes_are_removed_and_reported():
    ds = ct()
    item = Dataset()
    item.EncryptedContentTransferSyntaxUID = "1.2.840.10008.1.2.1"
    item.EncryptedContent = b"\x30\x82 encrypted original patient name"
    ds.EncryptedAttributesSequence = Sequence([item])
    out, result = deidentify(ds)
    assert "EncryptedAttributesSequence" not in out
    assert any("encrypted original values" in r.reason for r in result.review)
