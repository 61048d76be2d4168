"""One matcher for both sides (issue 14): the scene's identity matcher and the DICOM side's text
cleaner find the same spellings of a patient's name, ID and birth date (DicomDeidentifyLib.spellings
and written_dates), each with its own thresholds."""
import pytest

from DicomDeidentifyLib.spellings import SpellingMatcher
from DicomDeidentifyLib.text_cleaner import TextCleaner
from SceneScrubberLib.identity_matcher import IdentityMatcher
from support.data import read

NAME, PATIENT_ID, BIRTH_DATE = "DOE^JOHN", "MRN-4815-1623", "19700101"

SPELLINGS = [
    "DOE^JOHN", "Doe_John_T1", "John Doe tumor", "DoeJohn", "doe-john", "JOHN.DOE", "Doe, John", "Doe%20John",
    "see john", "DOE", "MRN-4815-1623", "mrn48151623", "id 048151623", "MRN-04815-1623", "MRN 4815 1623", "id 48151623", "4815-1623",
    "19700101", "1970-01-01", "01/01/1970", "1/1/1970", "01.01.70", "1 Jan 1970", "Jan 1, 1970",
    "January 1st 1970", "1970/01/01", "1970_01_01", "01011970", "010170", "1JAN70", "1970Jan01",
    "scan_Doe_John_19700101.nrrd",
]
NOT_THE_PATIENT = ["Does", "Doerr", "Johnson", "JOHNSON", "axial T1 3D", "Jonathan", "4815", "1623", "MRN 4816 1623"]


def cleaner() -> TextCleaner:
    ds = read("CT_small.dcm")
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = NAME, PATIENT_ID, BIRTH_DATE
    for keyword in ("InstitutionName", "InstitutionAddress", "StationName", "ReferringPhysicianName",
                    "OperatorsName", "PerformingPhysicianName", "AccessionNumber", "StudyID"):
        if keyword in ds:
            delattr(ds, keyword)   # only the patient's own values on both sides
    return TextCleaner.from_dataset(ds)


def scene() -> IdentityMatcher:
    return IdentityMatcher([NAME, PATIENT_ID, BIRTH_DATE])


def test_both_sides_use_the_one_matcher():
    assert isinstance(scene(), SpellingMatcher) and isinstance(cleaner()._matcher, SpellingMatcher)


@pytest.mark.parametrize("text", SPELLINGS)
def test_the_same_spellings_are_found_by_both(text):
    cleaned = cleaner().clean(text)
    assert scene().found_in(text), text
    assert cleaned != text
    # what either side leaves holds nothing of the name, the ID or the birth date
    for side in (cleaned, scene().redact(text)):
        assert not [piece for piece in ("doe", "john", "4815", "1623", "1970", "jan") if piece in side.lower()], side


@pytest.mark.parametrize("text", NOT_THE_PATIENT)
def test_what_is_not_the_patient_is_left_by_both(text):
    assert not scene().found_in(text), text
    assert cleaner().clean(text) == text


def test_a_date_that_is_not_the_birth_date_is_left_by_the_scene_but_cleaned_as_a_date():
    # the scene looks for the patient's values; the cleaner removes every date of free text
    assert not scene().found_in("1970-01-02") and cleaner().clean("1970-01-02") == "*"


ACCENTED = "MÜLLER^JÖRG"
# How people write Müller, Jörg: with accents, without, transliterated, NFD-decomposed (macOS file names)
ACCENT_SPELLINGS = ["Müller Jörg", "MULLER^JORG", "Patient Muller, Jorg", "MUELLER JOERG", "Mueller_Joerg_T1",
                    "jorg muller", "Mu\u0308ller_Jo\u0308rg", "MU\u0308LLER", "Jo\u0308rg"]
NOT_ACCENTED_PATIENT = ["Mull", "Mullerton", "Jorge", "Joe"]


def accented_cleaner() -> TextCleaner:
    ds = read("CT_small.dcm")
    ds.PatientName = ACCENTED
    for keyword in ("InstitutionName", "InstitutionAddress", "StationName", "ReferringPhysicianName",
                    "OperatorsName", "PerformingPhysicianName", "AccessionNumber", "StudyID", "PatientID"):
        if keyword in ds:
            delattr(ds, keyword)
    return TextCleaner.from_dataset(ds)


@pytest.mark.parametrize("text", ACCENT_SPELLINGS)
def test_names_without_accents_and_nfd_text_are_found_by_both(text):
    """Review finding 4: unicodedata folding plus ä/ö/ü/ß -> ae/oe/ue/ss on both sides; what either side
    leaves holds no part of the name, its combining marks included."""
    import unicodedata
    scene_side = IdentityMatcher([ACCENTED]).redact(text)
    cleaned = accented_cleaner().clean(text)
    for side in (scene_side, cleaned):
        plain = "".join(c for c in unicodedata.normalize("NFKD", side) if not unicodedata.combining(c)).lower()
        assert not [piece for piece in ("mul", "mue", "jor", "joe") if piece in plain], (text, side)
        assert not any(unicodedata.combining(c) for c in side), (text, side)


@pytest.mark.parametrize("text", NOT_ACCENTED_PATIENT)
def test_folding_finds_no_other_words(text):
    assert not IdentityMatcher([ACCENTED]).found_in(text) and accented_cleaner().clean(text) == text


# Review 14c, finding 3: two-character Chinese and Japanese names (a key of ideographs or kana is long
# enough at two characters; CJK text has no spaces, so each ideograph is a word of the text).
CJK_NAMES = ["WANG^WEI=王^伟", "YAMADA^TARO=山田^太郎=やまだ^たろう"]
CJK_SPELLINGS = [("患者 王伟", "王伟"), ("患者王伟医生", "王伟"), ("王 伟", "王伟"), ("王^伟", "王伟"), ("王伟_CT.nrrd", "王伟"),
                 ("太郎", "太郎"), ("山田太郎さん", "太郎"), ("やまだ たろう", "たろう")]
NOT_THE_CJK_PATIENT = ["伟大", "王", "田太", "大郎"]


def cjk_cleaner() -> TextCleaner:
    ds = read("CT_small.dcm")
    ds.PatientName = CJK_NAMES[0]
    for keyword in ("InstitutionName", "InstitutionAddress", "StationName", "ReferringPhysicianName",
                    "OperatorsName", "PerformingPhysicianName", "AccessionNumber", "StudyID", "PatientID"):
        if keyword in ds:
            delattr(ds, keyword)
    return TextCleaner.from_dataset(ds)


@pytest.mark.parametrize("text,name", CJK_SPELLINGS)
def test_two_character_cjk_names_are_found_by_both(text, name):
    scene_side = IdentityMatcher(CJK_NAMES).redact(text)
    assert name not in scene_side and scene_side != text, (text, scene_side)
    if "王" in name or "伟" in name:   # the DICOM side knows the Chinese patient's name
        cleaned = cjk_cleaner().clean(text)
        assert name not in cleaned and cleaned != text, (text, cleaned)


@pytest.mark.parametrize("text", NOT_THE_CJK_PATIENT)
def test_other_cjk_words_are_left_by_both(text):
    assert not IdentityMatcher(CJK_NAMES).found_in(text), text
    assert cjk_cleaner().clean(text) == text


# Review 14c, finding 11: the given name's initial run into the family name, an ID with leading zeros
# written as a number, a year-first date without padding; initials alone are no match on either side.
MORE_SPELLINGS = ["jdoe", "JDoe", "J. Doe", "user jdoe", "id 12345", "born 1970/1/1", "born 1970-1-1"]
STILL_NOT_THE_PATIENT = ["JD", "jdoes", "2019.1.2", "1234"]


def zero_id_cleaner() -> TextCleaner:
    ds = read("CT_small.dcm")
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = NAME, "0012345", BIRTH_DATE
    for keyword in ("InstitutionName", "InstitutionAddress", "StationName", "ReferringPhysicianName",
                    "OperatorsName", "PerformingPhysicianName", "AccessionNumber", "StudyID"):
        if keyword in ds:
            delattr(ds, keyword)
    return TextCleaner.from_dataset(ds)


@pytest.mark.parametrize("text", MORE_SPELLINGS)
def test_initial_and_surname_unpadded_ids_and_dates_are_found_by_both(text):
    scene_side = IdentityMatcher([NAME, BIRTH_DATE], terms=["0012345"]).redact(text)
    cleaned = zero_id_cleaner().clean(text)
    for side in (scene_side, cleaned):
        assert side != text and not [piece for piece in ("doe", "12345", "1970") if piece in side.lower()], side


@pytest.mark.parametrize("text", STILL_NOT_THE_PATIENT)
def test_initials_alone_and_version_numbers_are_left_by_the_scene(text):
    assert not IdentityMatcher([NAME, BIRTH_DATE], terms=["0012345"]).found_in(text), text
