"""Is burned-in text likely in a file's pixels? Decided from the header alone, before any pixel is read.

Ultrasound, secondary captures, screenshots, scanned documents and dose reports carry names,
dates and IDs in their pixels; a BurnedInAnnotation of YES says so outright. The header
cannot prove the opposite, so the rule is cautious: anything that is not an acquired
cross-sectional image, and any image that says it was derived or captured from a screen,
is at risk. A file at risk is never passed on silently (see pipeline): it is cleaned, held
for review or refused, as the profile says.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pydicom.datadict import tag_for_keyword

from . import raw_values

# Modalities whose images are often screens, captures, documents or have text stamped into them.
RISKY_MODALITIES = {"US", "SC", "OT", "XA", "RF", "DX", "CR", "MG", "IO", "PX", "ES", "XC", "GM", "DOC",
                    "SM", "ECG", "HD", "IVUS", "OPT", "OP", "KO"}
SECONDARY_CAPTURE_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.7"   # Secondary Capture and its multi-frame kinds
ENCAPSULATED_DOCUMENT_PREFIX = "1.2.840.10008.5.1.4.1.1.104"
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)   # Pixel Data, Float and Double Float Pixel Data
# CT and MR reconstructions, reformats and subtractions are SECONDARY images of the scanner itself:
# for them SECONDARY alone is no sign of burned-in text (another one is: a screen-capture conversion
# type, the SC class, an image type SCREEN/CAPTURE/..., Burned In Annotation YES).
RECONSTRUCTING_MODALITIES = {"CT", "MR", "PT", "NM"}
SCREEN_IMAGE_TYPES = {"SECONDARY", "SCREEN", "SCREEN SHOT", "CAPTURE", "DOSE", "DOSE INFO", "REPORT"}


@dataclass
class BurnedInRisk:
    """What assess_burned_in decided: `likely` (burned-in identity may be in the pixels) and `reasons`,
    a list of short English phrases naming the header attributes that decided it (never their values
    beyond the modality, image type and conversion type codes)."""
    likely: bool
    reasons: list = field(default_factory=list)


def assess_burned_in(dataset) -> BurnedInRisk:
    """Whether the pixels of this object may show identity, and why."""
    if not any(tag in dataset for tag in _PIXEL_TAGS) and not _has_unread_pixels(dataset):
        return BurnedInRisk(False, ["no pixel data"])
    reasons = []
    burned_in = _text(dataset, "BurnedInAnnotation").upper()
    if burned_in == "YES":
        reasons.append("Burned In Annotation is YES")
    modality = _text(dataset, "Modality").upper()
    if modality in RISKY_MODALITIES:
        reasons.append(f"modality {modality} often shows text in its images")
    sop_class = _text(dataset, "SOPClassUID")
    if sop_class.startswith(SECONDARY_CAPTURE_CLASS_PREFIX):
        reasons.append("a secondary capture")
    if sop_class.startswith(ENCAPSULATED_DOCUMENT_PREFIX):
        reasons.append("an encapsulated document")
    image_type = {value.strip().upper() for value in _values(dataset, "ImageType")}
    if modality in RECONSTRUCTING_MODALITIES:
        # DERIVED\SECONDARY is what a scanner's own reformat, MPR or subtraction says: no sign of text
        image_type -= {"SECONDARY"}
    if image_type & SCREEN_IMAGE_TYPES:
        reasons.append(f"image type {'/'.join(sorted(image_type & SCREEN_IMAGE_TYPES))}")
    if _text(dataset, "ConversionType"):
        reasons.append(f"conversion type {_text(dataset, 'ConversionType')} (a captured or digitized image)")
    if burned_in == "NO" and reasons == [f"modality {modality} often shows text in its images"] and modality in {"DX", "CR", "MG"}:
        return BurnedInRisk(False, ["Burned In Annotation is NO for a projection radiograph"])
    return BurnedInRisk(bool(reasons), reasons)


def _has_unread_pixels(dataset) -> bool:
    """The reader may have left Pixel Data unparsed (kept as bytes): its Rows say an image is there."""
    return _ROWS in dataset and _COLUMNS in dataset


# Looked up by tag and read raw (raw_values): this runs for every file, and the elements stay raw.
_TAGS = {keyword: tag_for_keyword(keyword) for keyword in (
    "BurnedInAnnotation", "Modality", "SOPClassUID", "ImageType", "ConversionType", "Rows", "Columns")}
_ROWS, _COLUMNS = _TAGS["Rows"], _TAGS["Columns"]


def _text(dataset, keyword: str) -> str:
    return raw_values.text(dataset, _TAGS[keyword])


def _values(dataset, keyword: str) -> list:
    return raw_values.texts(dataset, _TAGS[keyword])
