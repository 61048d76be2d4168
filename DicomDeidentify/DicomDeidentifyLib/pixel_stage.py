"""What a file's pipeline does about burned-in text: nothing, clean, hold for review, or refuse.

With Clean Pixel Data on, every image is cleaned (pixel_cleaner), whatever its modality and
header say: Burned In Annotation is often absent or wrong, and a header that says NO never
overrides text that is found. Before the header is de-identified, `plan` takes what cleaning
needs from the original header: the identifying values to look for (pixel_text) and the
region rules that apply (region_rules). After, `apply` cleans; the file is marked clean
(Burned In Annotation NO, method code 113101) only when the cleaning was proven: every frame
read and the check after blanking (detector and a second reader) found no unexplained text.
Otherwise it is "not proven": held for review with the regions listed, or refused under
burned_in "refuse"; it never keeps a NO from its input (it says YES: text may remain).

With the option off, the header-based risk (burned_in_risk) decides: an image at risk is held
(a review item that holds the file back from a side database until a person decides) or
refused, as the profile's burned_in says. A file at risk is never passed on silently, and
neither is one whose cleaning could not run (no decoder, an odd bit depth, no detector).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .burned_in_risk import BurnedInRisk, assess_burned_in
from .extras import missing_pixel_modules, pixels_missing_message
from .markers import add_method_code
from .options import OPTION_CODES, DeidentifyOptions
from .region_rules import load_rules, regions_for
from .results import ReviewItem

if TYPE_CHECKING:
    from .pixel_text import IdentifyingText

# The pixel modules (pixel_cleaner, pixel_detector, pixel_io, pixel_text, overlay_cleaner) need numpy,
# Pillow and the detector, the [pixels] extra: they are imported in the methods below, only once
# pixels are to be read (extras.py).

PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)   # Pixel Data, Float and Double Float Pixel Data
LISTED_REGIONS = 10   # regions named in a review item's reason (all of them are in the report)


class Refused(Exception):
    """The profile says to write nothing for this file; the message says why."""


@dataclass
class PixelPlan:
    """What PixelStage.plan took from the original header for apply: the burned-in `risk`, the `judge`
    of identifying text (None when nothing is to be read or the [pixels] extra is missing), the region
    rules' rectangles that apply, and whether overlays and the pixels are to be cleaned."""
    risk: BurnedInRisk
    judge: IdentifyingText | None = None
    regions: list = field(default_factory=list)
    overlays: bool = False   # overlay bitmaps to read (Clean Graphics)
    clean: bool = False      # an image, and Clean Pixel Data is on: detection runs


PICTURE_MAX_BYTES = 256 * 2**20   # decoded pixels of an uncleaned image drawn for the report, at most


def _small_enough(dataset) -> bool:
    """Whether the decoded pixels of `dataset` (all frames: pixel_io decodes them at once) stay within
    PICTURE_MAX_BYTES, from the header alone: the picture of an uncleaned image never makes a default run
    (Clean Pixel Data off) take the memory a long cine would."""
    try:
        size = (int(dataset.get("Rows", 0) or 0) * int(dataset.get("Columns", 0) or 0)
                * int(dataset.get("NumberOfFrames", 1) or 1) * int(dataset.get("SamplesPerPixel", 1) or 1)
                * max(1, int(dataset.get("BitsAllocated", 8) or 8) // 8))
    except (TypeError, ValueError):
        return False
    return 0 < size <= PICTURE_MAX_BYTES


def is_image(dataset) -> bool:
    """Whether the object has pixels (or, left unparsed by the reader, Rows and Columns that say so)."""
    return any(tag in dataset for tag in PIXEL_TAGS) or (0x00280010 in dataset and 0x00280011 in dataset)


class PixelStage:
    """The pixel step of one run, for one profile (`options`): plan() reads the original header, apply()
    cleans, holds or refuses after de-identification (see the module docstring). `rules` are the built-in
    region rules plus those of options.pixel_rules_file, with Clean Pixel Data on; `missing`
    lists the [pixels] extra's modules that are not installed. Raises ValueError for a malformed rules file."""
    def __init__(self, options: DeidentifyOptions, cache=None):
        """`cache`: a pixel_cache.PixelCache, where cleanings are kept for the next run (None: not kept)."""
        self.options = options
        self.cache = cache
        self.rules = load_rules(options.pixel_rules_file or None) if options.clean_pixel_data else []
        self.missing = missing_pixel_modules() if options.clean_pixel_data or options.clean_graphics else []
        self._pictures_possible = None   # numpy and Pillow there, for pictures of uncleaned images

    def needs_pixels(self, dataset) -> bool:
        """Whether this file's pixels must be parsed: every image with the option on (to be cleaned); with
        it off, an image at risk of burned-in text that is held (for the report's picture of it,
        uncleaned_picture), when the [pixels] extra can decode it."""
        if not is_image(dataset):
            return False
        return self.options.clean_pixel_data or (self._shows_uncleaned() and _small_enough(dataset)
                                                 and assess_burned_in(dataset).likely)

    def _shows_uncleaned(self) -> bool:
        """Whether held images at risk get a picture with the option off: they are held (not refused),
        and numpy and Pillow are there to decode and draw them (the text detector is not needed)."""
        if self.options.clean_pixel_data or self.options.burned_in == "refuse":
            return False
        if self._pictures_possible is None:
            self._pictures_possible = not missing_pixel_modules()
        return self._pictures_possible

    def uncleaned_picture(self, dataset, result, reasons: list) -> None:
        """With Clean Pixel Data off, an image held for its burned-in risk: result.pixel gets
        {"not_cleaned": True, "reasons" (the risk's `reasons`), "before_png": the first frame as written, which is the input's
        (report_images.first_frame_png; it may show burned-in identity: the report keeps it only with
        originals)}, so that a person sees the whole image in the report. Without the [pixels] extra,
        pixels that cannot be decoded, or more than PICTURE_MAX_BYTES of them, no picture ("before_png"
        empty); never raises: a picture is no
        reason for the file to fail."""
        png = b""
        if self._shows_uncleaned() and _small_enough(dataset):
            try:
                from .report_images import first_frame_png
                png = first_frame_png(dataset)
            except Exception:   # an odd layout, a decoder's own error: the file is held all the same
                png = b""
        result.pixel = {"not_cleaned": True, "reasons": list(reasons), "before_png": png}

    def plan(self, dataset) -> PixelPlan:
        """Before de-identification: the risk, and what cleaning needs from the original header."""
        risk = assess_burned_in(dataset)
        clean = self.options.clean_pixel_data and is_image(dataset)
        if self.missing:   # no pixel can be read without the extra: apply holds or refuses
            return PixelPlan(risk, clean=clean)
        if not clean and not self.options.clean_graphics:
            return PixelPlan(risk)
        from .overlay_cleaner import overlay_groups
        from .pixel_text import IdentifyingText
        overlays = self.options.clean_graphics and bool(overlay_groups(dataset))
        if not overlays and not clean:
            return PixelPlan(risk)
        rules = regions_for(dataset, self.rules) if clean else []
        return PixelPlan(risk, IdentifyingText.from_dataset(dataset), rules, overlays, clean)

    def apply(self, plan: PixelPlan, dataset, result):
        """After de-identification: clean, hold or refuse. Returns the transfer syntax the pixels now
        need (cleaned pixels are written uncompressed), or None if they were not touched.
        Raises Refused when the profile says to write nothing."""
        if plan.overlays:
            self._clean_overlays(plan, dataset, result)
        reasons = "; ".join(plan.risk.reasons)
        if not plan.clean:
            if not plan.risk.likely:
                return None
            if self.options.burned_in != "refuse":   # held: the report shows the whole image
                self.uncleaned_picture(dataset, result, plan.risk.reasons)
            return self._not_cleaned(dataset, result, f"burned-in text likely ({reasons}); Clean Pixel Data is off")
        why = f"burned-in text likely ({reasons})" if plan.risk.likely else "an image"
        if plan.judge is None:   # the [pixels] extra is missing: nothing could look at the pixels
            return self._not_cleaned(dataset, result, f"{why}; {pixels_missing_message('Clean Pixel Data', self.missing)}")
        from .pixel_cleaner import clean_pixels
        from .pixel_detector import detector_version
        from .pixel_io import PixelDecodeError
        from .pixel_text import OcrUnavailable
        try:
            cleaning = clean_pixels(dataset, plan.judge, plan.regions, cache=self.cache)
        except (PixelDecodeError, OcrUnavailable) as error:
            return self._not_cleaned(dataset, result, f"{why}, but its pixels could not be cleaned: {error}",
                                     cleaning_ran=True)
        result.pixel = {"reasons": plan.risk.reasons, "frames": cleaning.frames, "frames_read": cleaning.frames_read,
                        "verified": cleaning.verified, "changed": cleaning.changed,
                        "transfer_syntax": cleaning.transfer_syntax if cleaning.changed else "",
                        "detector": detector_version(), "second_reader": cleaning.second_reader,
                        "regions": [vars(region) for region in cleaning.regions],
                        "kept": [vars(region) for region in cleaning.kept],
                        "unexplained": [vars(region) for region in cleaning.unexplained],
                        "before_png": cleaning.before_png, "after_png": cleaning.after_png,
                        "shown_frame": cleaning.shown_frame,
                        # {frame: {"before", "after"}}: PHI like before_png (the key "_png" keeps it off reports)
                        "frames_png": cleaning.frame_pictures}
        transfer_syntax = cleaning.transfer_syntax if cleaning.changed else None
        problems = []
        if len(cleaning.frames_read) < cleaning.frames:   # a long series: not every frame was read
            problems.append(f"text was looked for on {len(cleaning.frames_read)} of {cleaning.frames} frames "
                            "only: the others were not read")
        if not cleaning.verified:
            listed = ", ".join(f"({r.x}, {r.y}) {r.width}x{r.height}" for r in cleaning.unexplained[:LISTED_REGIONS])
            more = len(cleaning.unexplained) - LISTED_REGIONS
            problems.append(f"after blanking, {len(cleaning.unexplained)} text region(s) are still found that no "
                            f"rule explains: {listed}{f' and {more} more' if more > 0 else ''}")
        result.pixel["proven"] = not problems
        if problems:
            self._not_cleaned(dataset, result, f"{why}: pixels cleaned where text was found, but not proven "
                                               f"clean: {'; '.join(problems)}", cleaning_ran=True)
            return transfer_syntax
        add_method_code(dataset, OPTION_CODES["clean_pixel_data"])
        dataset.BurnedInAnnotation = "NO"
        return transfer_syntax

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

    def _not_cleaned(self, dataset, result, reason: str, cleaning_ran: bool = False):
        """Not cleaned, or not proven clean: refused under burned_in "refuse", else held for review.
        Where cleaning was tried, a NO from the input is not kept: the pixels may still show text."""
        if self.options.burned_in == "refuse":
            raise Refused(f"refused: {reason}")
        if cleaning_ran and str(dataset.get("BurnedInAnnotation", "") or "").upper() == "NO":
            dataset.BurnedInAnnotation = "YES"
        result.review.append(ReviewItem("PixelData", "PixelData", "", reason + "; needs review before it is shared", "",
                                        kept_in_output=True))
        return None
