"""Clean Descriptors, Clean Structured Content and Clean Graphics on free text as people type it:
names in any case, order and spacing, IDs with other separators, dates in numbers or words.
What is kept after cleaning goes to review."""
import pytest
from pydicom.dataset import Dataset

from DicomDeidentifyLib import DeidentifyOptions
from DicomDeidentifyLib.text_cleaner import TextCleaner
from support.data import deidentify, read

FORBIDDEN = ["jane", "doe", "marie", "4815", "1623", "1965", "elm", "springfield", "smith"]


def patient():
    ds = read("CT_small.dcm")
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Doe^Jane^Marie", "MRN-4815-1623", "19650304"
    ds.PatientAddress = "12 Elm Street, Springfield"
    ds.ReferringPhysicianName = "Smith^Robert"
    return ds


@pytest.mark.parametrize("text", [
    "Jane Doe follow-up", "DOE, JANE M.", "doe^jane", "Marie-Jane DOE", "JaneDoe", "DoeJane",
    "pt mrn4815 1623", "MRN48151623 scan", "id 4815-1623", "born 4 March 1965", "born March 4th, 1965",
    "born 1965-03-04", "dob 04.03.1965", "ref Dr. R. Smith", "lives at 12 elm st springfield",
])
def test_identifying_values_go_in_every_form(text):
    cleaned = TextCleaner.from_dataset(patient()).clean(text).lower()
    assert not [piece for piece in FORBIDDEN if piece in cleaned], cleaned


def test_what_is_not_identifying_stays():
    cleaner = TextCleaner.from_dataset(patient())
    assert cleaner.clean("CT head w/o contrast, 5 mm") == "CT head w/o contrast, 5 mm"
    assert cleaner.clean("Follow-up for Jane Doe") == "Follow-up for * *"


def test_descriptors_are_cleaned_and_kept_text_is_reviewed():
    ds = patient()
    ds.StudyDescription = "CT head for JANE DOE (mrn 48151623)"
    ds.ImageComments = "Dr Smith: compare with scan of 4 March 1965"
    out, result = deidentify(ds, DeidentifyOptions(clean_descriptors=True))
    assert out.StudyDescription == "CT head for * * (*)"   # "mrn 48151623" is the ID typed another way
    assert "compare with scan of" in out.ImageComments and "1965" not in out.ImageComments
    reviewed = {item.path for item in result.review if item.kept_in_output}
    assert {"StudyDescription", "ImageComments"} <= reviewed


def text_object(text):
    item, annotation = Dataset(), Dataset()
    item.UnformattedTextValue = text
    annotation.TextObjectSequence = [item]
    return annotation


def test_clean_graphics_cleans_text_objects_of_graphic_annotations():
    ds = patient()
    ds.GraphicAnnotationSequence = [text_object("Lesion 2 cm, Jane Doe 03/14/2024")]
    basic, _ = deidentify(ds)
    assert "Jane" not in str(basic.get("GraphicAnnotationSequence", ""))
    out, result = deidentify(ds, DeidentifyOptions(clean_graphics=True))
    text = out.GraphicAnnotationSequence[0].TextObjectSequence[0].UnformattedTextValue
    assert text == "Lesion 2 cm, * * *"
    assert any(item.kept_in_output and "UnformattedTextValue" in item.path for item in result.review)


def test_clean_structured_content_cleans_sr_text_in_any_form():
    ds = read("CT_small.dcm")
    ds.PatientName, ds.PatientID = "Doe^Jane", "MRN-4815-1623"
    finding = Dataset()
    finding.ValueType, finding.RelationshipType = "TEXT", "CONTAINS"
    finding.TextValue = "Ms DOE (4815 1623) seen 14 Mar 2024: no change since jane's last visit"
    ds.ContentSequence = [finding]
    out, result = deidentify(ds, DeidentifyOptions(clean_structured_content=True))
    text = out.ContentSequence[0].TextValue
    assert "no change since" in text
    assert not [piece for piece in ("doe", "4815", "2024", "jane") if piece in text.lower()], text
    assert any(item.kept_in_output and item.path.endswith("TextValue") for item in result.review)


def test_clean_descriptors_takes_out_a_two_character_chinese_name_written_without_spaces():
    """Review 14c, finding 3: 'WANG^WEI=王^伟' (the ideographic group of a PN) written as 王伟 in a
    description; CJK text has no spaces, so each ideograph is a word of the text, and an ideographic
    name part is long enough at two characters (spellings.long_enough)."""
    ds = patient()
    ds.SpecificCharacterSet = "ISO_IR 192"   # UTF-8
    ds.PatientName = "WANG^WEI=王^伟"
    ds.StudyDescription = "CT 患者王伟 随访"
    out, _result = deidentify(ds, DeidentifyOptions(clean_descriptors=True))
    assert "王伟" not in str(out.StudyDescription) and "随访" in str(out.StudyDescription)
    assert TextCleaner.from_dataset(ds).clean("伟大") == "伟大"   # other words with one of its characters stay
