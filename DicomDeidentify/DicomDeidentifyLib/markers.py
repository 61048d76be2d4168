"""The attributes PS3.15 E.1.1 requires on every de-identified object."""
from __future__ import annotations

from pydicom import config
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

from .dicom_writer import plain_text_value
from .dummies import CODE_MEANING, CODE_VALUE, CODING_SCHEME_DESIGNATOR
from .options import DateMode, DeidentifyOptions

PRODUCT = "SlicerDeidentify"
PROFILE_EDITION = "PS3.15 2023b-2026c"
PATIENT_IDENTITY_REMOVED, DEIDENTIFICATION_METHOD, DEIDENTIFICATION_METHOD_CODES = 0x00120062, 0x00120063, 0x00120064
LONGITUDINAL_MODIFIED = 0x00280303
LONGITUDINAL = {DateMode.REMOVE: "REMOVED", DateMode.FULL: "UNMODIFIED", DateMode.MODIFIED: "MODIFIED"}


def add_deidentification_markers(dataset: Dataset, options: DeidentifyOptions) -> list:
    """Set the markers of PS3.15 E.1.1 (Patient Identity Removed, De-identification Method and its
    Code Sequence, Longitudinal Temporal Information Modified); returns the method's values."""
    from . import __version__
    codes = options.method_codes()
    # LO values are at most 64 characters: one value per line of the description.
    method = [f"{PRODUCT} {__version__}", f"{PROFILE_EDITION} Annex E"] + [c.meaning[:64] for c in codes]
    _set_text(dataset, PATIENT_IDENTITY_REMOVED, "CS", "YES")
    _set_text(dataset, DEIDENTIFICATION_METHOD, "LO", method)
    _set(dataset, DEIDENTIFICATION_METHOD_CODES, "SQ", Sequence([_code_item(code) for code in codes]))
    _set_text(dataset, LONGITUDINAL_MODIFIED, "CS", LONGITUDINAL[options.dates])
    return method


def add_method_code(dataset: Dataset, code) -> None:
    """Claim one more method (e.g. Clean Pixel Data once it actually ran on this file)."""
    dataset.DeidentificationMethodCodeSequence.append(_code_item(code))
    dataset.DeidentificationMethod = list(dataset.DeidentificationMethod) + [code.meaning[:64]]


def _code_item(code) -> Dataset:
    item = Dataset()
    _set(item, CODE_VALUE, "SH", code.value)
    _set(item, CODING_SCHEME_DESIGNATOR, "SH", "DCM")
    _set(item, CODE_MEANING, "LO", code.meaning)
    return item


_TEXTS: dict = {}   # (tag, VR, value) -> the raw element: the same few for every file of a run


def _set_text(dataset: Dataset, tag: int, vr: str, value) -> None:
    """A text marker, set as the bytes the writer would encode (dicom_writer.plain_text_value): one
    raw element (immutable) shared by the files of a run; pydicom decodes it only if it is read."""
    key = (tag, vr, tuple(value) if isinstance(value, list) else value)
    raw = _TEXTS.get(key)
    if raw is None:
        data = plain_text_value(vr, value)
        if data is None:   # (not ASCII: pydicom's writer encodes it)
            _set(dataset, tag, vr, value)
            return
        if len(_TEXTS) > 64:
            _TEXTS.clear()
        # text bytes read the same in any VR encoding and byte order: the flags are the default's
        raw = _TEXTS[key] = RawDataElement(BaseTag(tag), vr, len(data), data, 0, False, True)
    dataset[tag] = raw


def _set(dataset: Dataset, tag: int, vr: str, value) -> None:
    # Every file gets these: set by tag, and not validated (the values above are fixed and valid).
    dataset[tag] = DataElement(tag, vr, value, validation_mode=config.IGNORE)
