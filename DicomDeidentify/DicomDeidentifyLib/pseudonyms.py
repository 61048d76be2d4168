"""Patient pseudonyms and date offsets derived from the key.

A patient is identified by Patient ID (+ Issuer of Patient ID) when there is
one, else by name and birth date: the same patient gets the same fantasy name,
pseudonymous ID and date offset in every file and every run with the same key.
The names are built from syllables, so they are readable but belong to nobody.
"""
from __future__ import annotations

from dataclasses import dataclass

from .keyed_hash import KeyedHasher

_ONSETS = ["b", "br", "c", "d", "dr", "f", "g", "gr", "h", "j", "k", "kr", "l", "m", "n",
           "p", "qu", "r", "s", "st", "t", "th", "tr", "v", "w", "z"]
_VOWELS = ["a", "e", "i", "o", "u", "ae", "ai", "ei", "io", "ou"]
_CODAS = ["", "", "l", "n", "r", "s", "th", "m", "nd", "x"]
_FEMALE_ENDINGS = ["a", "ia", "elle", "ine", "ara", "ena"]
_MALE_ENDINGS = ["o", "an", "us", "ek", "or", "im"]
_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U

MAX_DATE_OFFSET_DAYS = 365


@dataclass(frozen=True)
class PatientPseudonym:
    """What one patient becomes: `name` (PN 'Family^Given', ASCII), `patient_id` ('ANON' and 10
    Crockford base-32 characters), `date_offset_days` (1 to MAX_DATE_OFFSET_DAYS, days dates move back
    under Retain Longitudinal Temporal Information with Modified Dates) and `identity_hash` (hex keyed
    hash of the original identity, the linkage store's key)."""
    name: str          # DICOM PN "Family^Given"
    patient_id: str
    date_offset_days: int
    identity_hash: str  # keyed hash of the original identity, for the linkage store


def patient_identity(patient_id: str, issuer: str, name: str, birth_date: str, fallback: str = "") -> str:
    """The string that identifies a patient; Patient ID wins so spelling changes of the name don't split a patient."""
    patient_id = (patient_id or "").strip()
    if patient_id:
        return f"id:{patient_id}^{(issuer or '').strip()}"
    if (name or "").strip() or (birth_date or "").strip():
        return f"name:{(name or '').strip().upper()}|{(birth_date or '').strip()}"
    return f"unknown:{fallback}"


class Pseudonymizer:
    """Derives PatientPseudonym values from a patient's identity string with a KeyedHasher."""
    def __init__(self, hasher: KeyedHasher):
        self._hasher = hasher

    def pseudonym(self, identity: str, sex: str = "", keep_sex: bool = False) -> PatientPseudonym:
        """The pseudonym of `identity` (a string from patient_identity): the same identity and key always give
        the same one. With `keep_sex` and `sex` 'F' or 'M' (Patient's Sex, PS3.3 C.7.1.1) the given name gets
        an ending of that sex; otherwise the ending says nothing about it."""
        digest = self._hasher.digest("patient", identity)
        numbers = list(digest)
        family = self._word(numbers[0:6], syllables=2 + numbers[6] % 2)
        endings = _FEMALE_ENDINGS + _MALE_ENDINGS
        sex = (sex or "").strip().upper()
        if keep_sex and sex == "F":
            endings = _FEMALE_ENDINGS
        elif keep_sex and sex == "M":
            endings = _MALE_ENDINGS
        given = self._word(numbers[8:12], syllables=1) + endings[numbers[12] % len(endings)]
        patient_id = "ANON" + "".join(_ID_ALPHABET[b % 32] for b in numbers[16:26])
        offset = 1 + self._hasher.integer("date-offset", identity, 64) % MAX_DATE_OFFSET_DAYS
        return PatientPseudonym(
            name=f"{family.capitalize()}^{given.capitalize()}",
            patient_id=patient_id,
            date_offset_days=offset,
            identity_hash=self._hasher.digest("identity", identity).hex(),
        )

    @staticmethod
    def _word(numbers: list, syllables: int) -> str:
        parts = []
        for i in range(syllables):
            a, b = numbers[(2 * i) % len(numbers)], numbers[(2 * i + 1) % len(numbers)]
            parts.append(_ONSETS[a % len(_ONSETS)] + _VOWELS[b % len(_VOWELS)])
        parts.append(_CODAS[numbers[-1] % len(_CODAS)])
        return "".join(parts)
