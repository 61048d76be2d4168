"""Clean free text (action C): remove what identifies the patient, keep the rest.

Used by the Clean Descriptors, Clean Structured Content and Clean Graphics
options. It removes every identifying value known from the same file's header
(names in any letter case and order, also run together; IDs also typed with other
or no separators; accession numbers, birth date, institution and staff names), then
anything shaped like a date (numeric or with a month name) or a long number. Whatever is
kept is still reported for review: a cleaner can't judge all free text.
"""
from __future__ import annotations

import re

REPLACEMENT = "*"

# Attributes whose values identify someone and may be typed again into free text.
IDENTIFYING_KEYWORDS = (
    "PatientName", "PatientID", "OtherPatientIDs", "OtherPatientNames", "PatientBirthName",
    "PatientMotherBirthName", "PatientBirthDate", "PatientAddress", "PatientTelephoneNumbers",
    "AccessionNumber", "StudyID", "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName",
    "ReferringPhysicianName", "PerformingPhysicianName", "NameOfPhysiciansReadingStudy",
    "OperatorsName", "PhysiciansOfRecord", "RequestingPhysician", "ResponsiblePerson",
    "MedicalRecordLocator", "StationName",
)
_DATE_PATTERNS = [
    re.compile(r"\b(?:19|20)\d{2}[-./ ]?(?:0[1-9]|1[0-2])[-./ ]?(?:0[1-9]|[12]\d|3[01])\b"),
    re.compile(r"\b(?:0?[1-9]|[12]\d|3[01])[-./ ](?:0?[1-9]|1[0-2])[-./ ](?:19|20)?\d{2}\b"),
    re.compile(r"\b(?:0?[1-9]|1[0-2])[-./ ](?:0?[1-9]|[12]\d|3[01])[-./ ](?:19|20)\d{2}\b"),
]
_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
           r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DATE_PATTERNS += [   # "4 March 1965", "04-Mar-1965", "March 4, 1965", "Mar 4 65"
    re.compile(r"\b(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?[-./ ]+" + _MONTHS + r"\.?[-./, ]+(?:19|20)?\d{2}\b", re.I),
    re.compile(r"\b" + _MONTHS + r"\.?[-./ ]+(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?,?[-./ ]+(?:19|20)?\d{2}\b", re.I),
]
_LONG_NUMBER = re.compile(r"\b\d{5,}\b")
MIN_TERM_LENGTH = 2
_SEPARATORS = r"[\s\-./_:]*"   # how an ID may be typed: "MRN-4815-1623", "mrn4815 1623", "48151623"


def identifying_terms(dataset) -> list[str]:
    """Every identifying value of the data set, split into words, longest first."""
    terms = set()
    for keyword in IDENTIFYING_KEYWORDS:
        value = dataset.get(keyword) if keyword in dataset else None
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
        for item in values:
            text = str(item)
            if not text.strip():
                continue
            terms.add(text.strip())
            words = [w.strip() for w in re.split(r"[\^\s,=;:/\\]+", text) if len(w.strip()) >= MIN_TERM_LENGTH]
            terms.update(words)
            if keyword.endswith("Name") or keyword.endswith("Names"):   # "JaneDoe", "DoeJane"
                terms.update(a + b for a in words for b in words if a != b and a.isalpha() and b.isalpha())
    return sorted(terms, key=len, reverse=True)


def _term_pattern(term: str) -> str:
    """A term as a regular expression; an ID (four or more digits) also without or with other
    separators, and its digits alone."""
    plain = r"(?<!\w)" + re.escape(term) + r"(?!\w)"
    if len(re.findall(r"\d", term)) < 4:
        return plain
    forms = [plain]
    core = re.sub(r"[^A-Za-z0-9]", "", term)
    forms.append(r"(?<![A-Za-z0-9])" + _SEPARATORS.join(re.escape(c) for c in core) + r"(?![A-Za-z0-9])")
    digits = re.sub(r"\D", "", term)
    if digits != core and len(digits) >= 5:
        forms.append(r"(?<!\d)" + _SEPARATORS.join(digits) + r"(?!\d)")
    return "|".join(forms)


class TextCleaner:
    def __init__(self, terms: list[str]):
        self._terms = [t for t in terms if len(t) >= MIN_TERM_LENGTH]
        self._pattern = (re.compile("|".join(_term_pattern(t) for t in self._terms), re.IGNORECASE)
                         if self._terms else None)

    @property
    def terms(self) -> list:
        """The identifying values (and their words) this cleaner removes."""
        return list(self._terms)

    @classmethod
    def from_dataset(cls, dataset) -> "TextCleaner":
        return cls(identifying_terms(dataset))

    def clean(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(REPLACEMENT, text)
        for pattern in _DATE_PATTERNS:
            text = pattern.sub(REPLACEMENT, text)
        return _LONG_NUMBER.sub(REPLACEMENT, text)
