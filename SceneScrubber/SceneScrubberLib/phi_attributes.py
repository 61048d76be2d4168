"""Which attributes of a Slicer scene can carry patient identity.

Slicer's DICOM plugins copy header values into subject hierarchy item attributes
and node attributes named "DICOM.<keyword>" (DICOM.PatientName,
DICOM.StudyDate, DICOM.instanceUIDs, ...). Until the scrubber's full policy
exists, every such attribute counts as identifying: nothing is let through by
omission.
"""
from __future__ import annotations

DICOM_ATTRIBUTE_PREFIX = "DICOM."


def is_identifying_attribute(name: str) -> bool:
    return name.startswith(DICOM_ATTRIBUTE_PREFIX)


def search_forms(term: str) -> set:
    """A value and the forms Slicer may write it in (a PN's '^' as a space or '_'); empty for values
    too short or too common to tell identity from chance ('M', 'YES', a small number)."""
    term = (term or "").strip()
    if len(term) < 3 or term.lower() in {"yes", "no"} or (term.isdigit() and len(term) < 6):
        return set()
    forms = {term, term.replace("^", " ").strip(), term.replace("^", "_").strip("_")}
    return {form for form in forms if len(form) >= 3}


def names_identifying_value(name: str, values) -> bool:
    """Whether a node or item name contains one of the identifying values (any letter case)."""
    lowered = (name or "").lower()
    return any(form.lower() in lowered for value in values for form in search_forms(value))
