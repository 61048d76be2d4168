"""Clean free text (action C): remove what identifies the patient, keep the rest.

Used by the Clean Descriptors, Clean Structured Content and Clean Graphics
options. It removes every identifying value known from the same file's header
(names in any letter case, order and separator, also run together; IDs also typed with other
or no separators; accession numbers, birth date, institution and staff names), then
every date as people and scanners write them (written_dates: month names and
abbreviations, year and month alone, two-digit years, digits in any order with '.', '/',
'-' or none), then any long number. How a value is spelled is spellings' business, the
same rules the scene scrubber uses; here every word of two or more characters counts.
Whatever is kept is still reported for review: a cleaner can't judge all free text.
"""
from __future__ import annotations

import re

from .spellings import Rules, SpellingMatcher
from .written_dates import redact_dates

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
_LONG_NUMBER = re.compile(r"\b\d{5,}\b")
MIN_TERM_LENGTH = 2
# Every term counts from two characters, numbers too: the header says they identify this patient.
RULES = Rules(min_key=MIN_TERM_LENGTH, min_number=MIN_TERM_LENGTH)
# The person names (VR PN) among them: matched as names (any order, each word alone).
NAME_KEYWORDS = ("PatientName", "OtherPatientNames", "PatientBirthName", "PatientMotherBirthName",
                 "ReferringPhysicianName", "PerformingPhysicianName", "NameOfPhysiciansReadingStudy",
                 "OperatorsName", "PhysiciansOfRecord", "RequestingPhysician", "ResponsiblePerson")


def _name_words(text: str) -> list:
    return [w.strip() for w in re.split(r"[\^\s,=;:/\\]+", text) if len(w.strip()) >= MIN_TERM_LENGTH]


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
            words = _name_words(text)
            terms.update(words)
            if keyword.endswith("Name") or keyword.endswith("Names"):   # "JaneDoe", "DoeJane"
                terms.update(a + b for a in words for b in words if a != b and a.isalpha() and b.isalpha())
    return sorted(terms, key=len, reverse=True)


def _values_of(dataset, keywords) -> list:
    out = []
    for keyword in keywords:
        value = dataset.get(keyword) if keyword in dataset else None
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
        out += [str(item).strip() for item in values if str(item).strip()]
    return out


class TextCleaner:
    """Cleans free text of one file's identifying values and of every date and long number.

    terms: identifying values and their words (as `identifying_terms` gives them); names: the
    person names among them, whose words are replaced one by one ('Jane Doe' -> '* *')."""

    def __init__(self, terms: list, names=()):
        self._terms = [t for t in terms if len(t) >= MIN_TERM_LENGTH]
        names = [n for n in names if n.strip()]
        # a name's words and pairs are spelled by the name itself (as a name: word by word)
        of_names = set(names) | {word for name in names for word in _name_words(name)}
        of_names |= {a + b for name in names for a in _name_words(name) for b in _name_words(name)}
        self._matcher = SpellingMatcher(terms=[t for t in self._terms if t not in of_names], names=names,
                                        rules=RULES)

    @property
    def terms(self) -> list:
        """The identifying values (and their words) this cleaner removes."""
        return list(self._terms)

    @classmethod
    def from_dataset(cls, dataset) -> "TextCleaner":
        """A cleaner for one data set's identifying values (identifying_terms) and person names (NAME_KEYWORDS),
        read from `dataset` as it is (give it the original header)."""
        return cls(identifying_terms(dataset), _values_of(dataset, NAME_KEYWORDS))

    def clean(self, text: str) -> str:
        """`text` without the file's identifying values (any spelling), dates and long numbers."""
        text = self._matcher.redact(text, REPLACEMENT, by_word=frozenset({"name"}))
        text = redact_dates(text, REPLACEMENT)
        return _LONG_NUMBER.sub(REPLACEMENT, text)
