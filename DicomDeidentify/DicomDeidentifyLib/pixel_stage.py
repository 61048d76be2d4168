"""What a file's pipeline does about burned-in text: nothing, clean, hold for review, or refuse.

Before the header is de-identified, `plan` judges the risk (burned_in_risk) and, when Clean
Pixel Data is on, takes what cleaning needs from the original header: the identifying
values to look for (pixel_text) and the region rules that apply (region_rules). After,
`apply` cleans the pixels (pixel_cleaner), or, when cleaning is off or impossible, follows
the profile's burned_in policy: "hold" (a review item that holds the file back from a side
database until a person decides) or "refuse" (nothing written). A file at risk is never
passed on silently.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .burned_in_risk import BurnedInRisk, assess_burned_in
from .extras import missing_pixel_modules, pixels_missing_message
from .markers import add_method_code
from .options import OPTION_CODES, DeidentifyOptions
from .region_rules import load_rules, regions_for
from .results import ReviewItem

# The pixel modules (pixel_cleaner, pixel_io, pixel_text, overlay_cleaner) need numpy and Pillow, the
# [pixels] extra: they are imported in the methods below, only once pixels are to be read (extras.py).


class Refused(Exception):
    """The profile says to write nothing for this file; the message says why."""


@dataclass
class PixelPlan:
    risk: BurnedInRisk
    judge: IdentifyingText | None = None
    regions: list = field(default_factory=list)
    overlays: bool = False   # overlay bitmaps to read (Clean Graphics)


class PixelStage:
    def __init__(self, options: DeidentifyOptions):
        self.options = options
        self.rules = load_rules(options.pixel_rules_file or None) if options.clean_pixel_data else []
        self.missing = missing_pixel_modules() if options.clean_pixel_data or options.clean_graphics else []

    def needs_pixels(self, dataset) -> bool:
        """Whether this file's pixels must be parsed (to be cleaned)."""
        return self.options.clean_pixel_data and assess_burned_in(dataset).likely

    def plan(self, dataset) -> PixelPlan:
        """Before de-identification: the risk, and what cleaning needs from the original header."""
        risk = assess_burned_in(dataset)
        cleans = self.options.clean_pixel_data and risk.likely or self.options.clean_graphics
        if not cleans or self.missing:   # no pixel read (none can be without the extra): held or refused by apply
            return PixelPlan(risk)
        from .overlay_cleaner import overlay_groups
        from .pixel_text import IdentifyingText
        overlays = self.options.clean_graphics and bool(overlay_groups(dataset))
        if not overlays and (not risk.likely or not self.options.clean_pixel_data):
            return PixelPlan(risk)
        rules = regions_for(dataset, self.rules) if risk.likely and self.options.clean_pixel_data else []
        return PixelPlan(risk, IdentifyingText.from_dataset(dataset), rules, overlays)

    def apply(self, plan: PixelPlan, dataset, result):
        """After de-identification: clean, hold or refuse. Returns the transfer syntax the pixels now
        need (cleaned pixels are written uncompressed), or None if they were not touched."""
        if plan.overlays:
            self._clean_overlays(plan, dataset, result)
        if not plan.risk.likely:
            return None
        if not self.options.clean_pixel_data:
            plan = PixelPlan(plan.risk)
        reasons = "; ".join(plan.risk.reasons)
        if plan.judge is None:
            why = (pixels_missing_message("Clean Pixel Data", self.missing) if self.options.clean_pixel_data
                   else "Clean Pixel Data is off")
            return self._not_cleaned(result, f"burned-in text likely ({reasons}); {why}")
        from .pixel_cleaner import clean_pixels
        from .pixel_io import PixelDecodeError
        from .pixel_text import OcrUnavailable
        try:
            cleaning = clean_pixels(dataset, plan.judge, plan.regions)
        except (PixelDecodeError, OcrUnavailable) as error:
            return self._not_cleaned(result, f"burned-in text likely ({reasons}) but not cleaned: {error}")
        add_method_code(dataset, OPTION_CODES["clean_pixel_data"])
        if len(cleaning.frames_read) < cleaning.frames:   # a long series: not every frame was read
            result.review.append(ReviewItem(
                "PixelData", "PixelData", "", f"pixels cleaned where OCR found text on {len(cleaning.frames_read)} "
                f"of {cleaning.frames} frames; the other frames were not read: check them", "", kept_in_output=True))
        if cleaning.verified:
            dataset.BurnedInAnnotation = "NO"
        else:
            result.review.append(ReviewItem("PixelData", "PixelData", "", "pixels cleaned, but OCR still reads "
                                            "identifying text: check the image", "", kept_in_output=True))
        result.pixel = {"reasons": plan.risk.reasons, "frames": cleaning.frames, "frames_read": cleaning.frames_read,
                        "verified": cleaning.verified, "transfer_syntax": cleaning.transfer_syntax,
                        "regions": [vars(region) for region in cleaning.regions],
                        "before_png": cleaning.before_png, "after_png": cleaning.after_png}
        return cleaning.transfer_syntax

    def _clean_overlays(self, plan: PixelPlan, dataset, result) -> None:
        """Overlay bitmaps kept by Clean Graphics: identifying text blanked; once read, the engine's
        "check it for burned-in text" review items are settled. Without OCR they stay (held)."""
        from .overlay_cleaner import clean_overlays
        from .pixel_text import OcrUnavailable
        try:
            blanked = clean_overlays(dataset, plan.judge)
        except OcrUnavailable:
            return
        result.review = [item for item in result.review
                         if not (item.kept_in_output and item.path.startswith("OverlayData")
                                 or item.kept_in_output and item.path.endswith(",3000)"))]
        result.pixel.setdefault("overlay_regions", []).extend(blanked)

    def _not_cleaned(self, result, reason: str):
        if self.options.burned_in == "refuse":
            raise Refused(f"refused: {reason}")
        result.review.append(ReviewItem("PixelData", "PixelData", "", reason + "; held for review", "",
                                        kept_in_output=True))
        return None
