"""Every option of PS3.15 Table E.1-1 changes what it should, and only when switched on."""
import datetime

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from DicomDeidentifyLib import DeidentifyOptions
from support.data import deidentify, read

PHILIPS = "Philips PET Private Group"


def with_private_tags():
    ds = read("CT_small.dcm")
    ds.add_new(0x70530010, "LO", PHILIPS)
    ds.add_new(0x70531000, "DS", "1.5")          # SUV factor: safe (E.3.10-1)
    ds.add_new(0x70531050, "LO", "Doe^John")     # same creator, not listed: never safe
    ds.add_new(0x00290010, "LO", "SIEMENS CSA HEADER")
    ds.add_new(0x00291010, "OB", b"PatientName=Doe\x00")
    item = Dataset()
    item.add_new(0x70530010, "LO", PHILIPS)      # creator in the same item
    item.add_new(0x70531009, "DS", "2.5")
    orphan = Dataset()
    orphan.add_new(0x70531000, "DS", "3.5")      # creator only in the enclosing data set
    ds.ReferencedImageSequence = Sequence([item, orphan])
    return ds


def test_private_tags_are_removed_by_default_with_their_creators():
    out, result = deidentify(with_private_tags())
    assert not [e for e in out.iterall() if e.tag.is_private]
    assert "(0029,1010)" in result.removed


def test_retain_safe_private_keeps_listed_elements_under_their_creator_only():
    out, result = deidentify(with_private_tags(), DeidentifyOptions(retain_safe_private=True))
    assert out[0x70531000].value == "1.5" and out[0x70530010].value == PHILIPS
    assert 0x70531050 not in out and 0x00291010 not in out and 0x00290010 not in out
    assert out.ReferencedImageSequence[0][0x70531009].value == "2.5"
    assert 0x70531000 not in out.ReferencedImageSequence[1]    # creator not in its own item
    assert any("kept as safe" in r.reason for r in result.review)
    assert "113111" in [i.CodeValue for i in out.DeidentificationMethodCodeSequence]


def test_allow_creator_on_higher_level_finds_the_enclosing_creator():
    options = DeidentifyOptions(retain_safe_private=True, allow_creator_on_higher_level=True)
    out, _ = deidentify(with_private_tags(), options)
    assert out.ReferencedImageSequence[1][0x70531000].value == "3.5"
    assert out[0x70530010].value == PHILIPS   # the creator it relied on stays


def test_extra_safe_private_tags_from_the_profile():
    options = DeidentifyOptions(retain_safe_private=True, extra_safe_private=(f"7053,{PHILIPS},50",))
    out, _ = deidentify(with_private_tags(), options)
    assert out[0x70531050].value == "Doe^John"


def test_retain_uids():
    ds = read("CT_small.dcm")
    out, _ = deidentify(ds, DeidentifyOptions(retain_uids=True))
    assert out.SOPInstanceUID == ds.SOPInstanceUID and out.StudyInstanceUID == ds.StudyInstanceUID
    assert "113110" in [i.CodeValue for i in out.DeidentificationMethodCodeSequence]


def test_retain_device_identity():
    ds = read("CT_small.dcm")
    ds.DeviceSerialNumber = "SN-4455"
    ds.StationName = "CTAWS1"
    basic, _ = deidentify(ds)
    kept, result = deidentify(ds, DeidentifyOptions(retain_device_identity=True))
    assert basic.DeviceSerialNumber == "ANONYMIZED" and basic.StationName == "ANONYMIZED"
    assert kept.DeviceSerialNumber == "SN-4455" and kept.StationName == "CTAWS1"
    assert "StationName" in result.kept
    assert any(r.path == "StationName" and "free text" in r.reason for r in result.review)


def test_retain_institution_identity():
    ds = read("CT_small.dcm")
    ds.InstitutionName = "Springfield General"
    ds.InstitutionAddress = "1 Main Street"
    basic, _ = deidentify(ds)
    kept, _ = deidentify(ds, DeidentifyOptions(retain_institution_identity=True))
    assert "InstitutionAddress" not in basic and basic.InstitutionName == "ANONYMIZED"
    assert kept.InstitutionName == "Springfield General" and kept.InstitutionAddress == "1 Main Street"


def test_retain_patient_characteristics():
    ds = read("CT_small.dcm")
    ds.PatientSex, ds.PatientAge, ds.PatientWeight, ds.PatientSize = "F", "042Y", "61", "1.65"
    basic, _ = deidentify(ds)
    kept, _ = deidentify(ds, DeidentifyOptions(retain_patient_characteristics=True))
    assert not basic.PatientSex and "PatientAge" not in basic and "PatientWeight" not in basic
    assert (kept.PatientSex, kept.PatientAge, kept.PatientWeight) == ("F", "042Y", 61)


def dated():
    ds = read("CT_small.dcm")
    ds.PatientID = "MRN-1"
    ds.StudyDate, ds.SeriesDate, ds.AcquisitionDateTime = "20240130", "20240204", "20240204101500.5+0100"
    ds.DateOfGainCalibration = "20231231"   # not in the table: handled by its VR
    return ds


def test_dates_are_removed_by_default():
    out, _ = deidentify(dated())
    assert not out.StudyDate and out.LongitudinalTemporalInformationModified == "REMOVED"


def test_retain_full_dates():
    out, _ = deidentify(dated(), DeidentifyOptions(dates="full"))
    assert (out.StudyDate, out.SeriesDate, out.DateOfGainCalibration) == ("20240130", "20240204", "20231231")
    assert out.LongitudinalTemporalInformationModified == "UNMODIFIED"


def test_retain_modified_dates_shifts_every_date_by_one_patient_offset():
    out, result = deidentify(dated(), DeidentifyOptions(dates="modified"))
    offset = result.patient["date_offset_days"]
    assert 1 <= offset <= 365
    day = lambda text: datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    assert day("20240130") - day(out.StudyDate) == datetime.timedelta(days=offset)
    assert day(out.SeriesDate) - day(out.StudyDate) == datetime.timedelta(days=5)   # interval kept
    assert day("20231231") - day(out.DateOfGainCalibration) == datetime.timedelta(days=offset)
    assert out.AcquisitionDateTime.endswith("101500.5+0100")
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"
    again, _ = deidentify(dated(), DeidentifyOptions(dates="modified"))
    assert again.StudyDate == out.StudyDate   # same patient, same key: same offset


def test_clean_descriptors_removes_identifying_values_from_free_text():
    ds = read("CT_small.dcm")
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Doe^John", "MRN12345", "19700101"
    ds.StudyDescription = "CT head JOHN doe mrn12345 born 1970-01-01, follow-up"
    basic, _ = deidentify(ds)
    clean, result = deidentify(ds, DeidentifyOptions(clean_descriptors=True))
    assert "StudyDescription" not in basic
    text = clean.StudyDescription
    assert "CT head" in text and "follow-up" in text
    for term in ("john", "doe", "mrn12345", "1970"):
        assert term not in text.lower()
    assert any(r.path == "StudyDescription" for r in result.review)


def test_clean_structured_content_cleans_sr_text_instead_of_replacing_it():
    ds = read("test-SR.dcm")
    ds.PatientName = "Smith^Anna"
    first_text = next(i for i in ds.ContentSequence if "TextValue" in i)
    first_text.TextValue = "Findings for Anna Smith: no change"
    clean, _ = deidentify(ds, DeidentifyOptions(clean_structured_content=True))
    texts = [i.TextValue for i in clean.ContentSequence if "TextValue" in i]
    assert "Findings for * *: no change" in texts
    assert "113104" in [i.CodeValue for i in clean.DeidentificationMethodCodeSequence]


def with_overlay():
    """CT_small with a graphics overlay whose description names the patient's family."""
    ds = read("CT_small.dcm")
    ds.PatientName = "Siemens^Ada"
    ds.add_new(0x60000010, "US", ds.Rows)
    ds.add_new(0x60000011, "US", ds.Columns)
    ds.add_new(0x60000022, "LO", "Siemens MedCom Object Graphics")
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [1, 1])
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60000102, "US", 0)
    ds.add_new(0x60003000, "OW", bytes(range(256)) * (ds.Rows * ds.Columns // 8 // 256))
    return ds


def test_clean_graphics_keeps_overlays_with_clean_text_basic_removes_them_whole():
    ds = with_overlay()
    basic, _ = deidentify(ds)
    assert not [e for e in basic if e.tag.group == 0x6000]
    clean, result = deidentify(ds, DeidentifyOptions(clean_graphics=True))
    assert clean[0x60003000].value == ds[0x60003000].value
    assert clean[0x60000022].value == "* MedCom Object Graphics"
    assert any("burned-in" in r.reason for r in result.review)


def test_clean_recognizable_visual_features_is_accepted_but_never_claimed():
    out, result = deidentify(read("CT_small.dcm"), DeidentifyOptions(clean_pixel_data=True,
                                                                      clean_recognizable_visual_features=True))
    codes = [i.CodeValue for i in out.DeidentificationMethodCodeSequence]
    assert "113102" not in codes
    assert "113101" not in codes   # claimed per file, only where cleaning ran (test_pixel_cleaning)
    assert sum("not implemented" in r.reason for r in result.review) == 1


def test_markers_name_the_profile_and_every_option_applied():
    every = DeidentifyOptions(retain_safe_private=True, retain_uids=True, retain_device_identity=True,
                              retain_institution_identity=True, retain_patient_characteristics=True,
                              dates="modified", clean_descriptors=True, clean_structured_content=True,
                              clean_graphics=True)
    out, _ = deidentify(read("CT_small.dcm"), every)
    assert out.PatientIdentityRemoved == "YES"
    codes = [i.CodeValue for i in out.DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113111", "113110", "113109", "113112", "113108", "113105", "113104",
                     "113103", "113107"]
    assert all(i.CodingSchemeDesignator == "DCM" for i in out.DeidentificationMethodCodeSequence)
    assert "SlicerDeidentify" in out.DeidentificationMethod[0]
    basic, _ = deidentify(read("CT_small.dcm"))
    assert [i.CodeValue for i in basic.DeidentificationMethodCodeSequence] == ["113100"]


def test_skip_already_deidentified():
    once, _ = deidentify(read("CT_small.dcm"))
    _, result = deidentify(once, DeidentifyOptions(skip_deidentified=True))
    assert result.status == "skipped" and "already de-identified" in result.reason
    _, again = deidentify(once)
    assert again.status == ""   # without the switch it is processed again


def test_profile_round_trips_through_json():
    options = DeidentifyOptions(retain_uids=True, dates="modified", identity="fixed",
                                extra_safe_private=(f"7053,{PHILIPS},50",))
    assert DeidentifyOptions.from_json(options.to_json()) == options
