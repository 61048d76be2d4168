"""The attributes PS3.15 E.1.1 requires on every de-identified object."""
from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from .options import DateMode, DeidentifyOptions

PRODUCT = "SlicerDeidentify"
PROFILE_EDITION = "PS3.15 2023b-2026c"
LONGITUDINAL = {DateMode.REMOVE: "REMOVED", DateMode.FULL: "UNMODIFIED", DateMode.MODIFIED: "MODIFIED"}


def add_deidentification_markers(dataset: Dataset, options: DeidentifyOptions) -> None:
    from . import __version__
    codes = options.method_codes()
    dataset.PatientIdentityRemoved = "YES"
    # LO values are at most 64 characters: one value per line of the description.
    dataset.DeidentificationMethod = [f"{PRODUCT} {__version__}", f"{PROFILE_EDITION} Annex E"] + [
        c.meaning[:64] for c in codes]
    items = []
    for code in codes:
        item = Dataset()
        item.CodeValue = code.value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = code.meaning
        items.append(item)
    dataset.DeidentificationMethodCodeSequence = Sequence(items)
    dataset.LongitudinalTemporalInformationModified = LONGITUDINAL[options.dates]


def add_method_code(dataset: Dataset, code) -> None:
    """Claim one more method (e.g. Clean Pixel Data once it actually ran on this file)."""
    item = Dataset()
    item.CodeValue = code.value
    item.CodingSchemeDesignator = "DCM"
    item.CodeMeaning = code.meaning
    dataset.DeidentificationMethodCodeSequence.append(item)
    dataset.DeidentificationMethod = list(dataset.DeidentificationMethod) + [code.meaning[:64]]
