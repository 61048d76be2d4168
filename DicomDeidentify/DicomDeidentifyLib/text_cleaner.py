"""Clean free text (action C): remove what identifies the patient, keep the rest.

Used by the Clean Descriptors, Clean Structured Content and Clean Graphics
options. It removes every identifying value known from the same file's header
(names in any letter case, IDs, accession numbers, birth date, institution and
staff names), then anything shaped like a date or a long number. Whatever is
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
_LONG_NUMBER = re.compile(r"\b\d{5,}\b")
MIN_TERM_LENGTH = 2


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
            for word in re.split(r"[\^\s,=;:/\\]+", text):
                if len(word.strip()) >= MIN_TERM_LENGTH:
                    terms.add(word.strip())
    return sorted(terms, key=len, reverse=True)


class TextCleaner:
    def __init__(self, terms: list[str]):
        self._terms = [t for t in terms if len(t) >= MIN_TERM_LENGTH]
        self._pattern = (re.compile("|".join(r"(?<!\w)" + re.escape(t) + r"(?!\w)" for t in self._terms),
                                    re.IGNORECASE) if self._terms else None)

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
