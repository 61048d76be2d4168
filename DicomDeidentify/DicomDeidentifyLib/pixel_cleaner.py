"""Clean Pixel Data (PS3.15 Table E.1-1, code 113101): blank burned-in text, and prove it is gone.

For one data set (every image when the option is on, whatever its header says): decode every
frame (pixel_io), blank the rectangles of the region rules that apply, find every text region
with the detector (pixel_detector) and blank each one, the whole detected line with a margin,
unless its reading is explained by the vocabulary of clinical annotation (pixel_vocabulary:
confident, every word on the list, nothing identifying). Blanking is a solid fill with the
image's lowest value: blurring can be undone.

Then the proof: each read frame is checked again by the detector and by a second, different
reader (Tesseract, pixel_detector.second_reading; a frame that nothing changed is not detected
twice: the detector would find what it has just found). What they find that is not explained is
blanked too and the check repeats, up to VERIFY_PASSES times; `verified` is true only when
the last check found no unexplained region on any read frame. The caller (pixel_stage)
marks the file clean (Burned In Annotation NO) only then, and holds it otherwise.

Frames read: all frames of a series up to MAX_OCR_FRAMES (or of a series of at most
ALL_FRAMES_PIXELS pixels in all), else that many spread over it
(first and last included; the file is then held, as the other frames were not read). What is
found on any read frame is blanked on every frame: devices stamp text at fixed places.
Pixels are written back (uncompressed) only when something was blanked.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from .pixel_detector import TextRegion, detect_text, detector_image, second_reader_name, second_reading
from .pixel_io import OUTPUT_TRANSFER_SYNTAX, decode_frames, encode_native
from .pixel_text import IdentifyingText, to_grey8
from .pixel_vocabulary import Vocabulary, load_vocabulary
from .report_images import picture

MAX_OCR_FRAMES = 8
ALL_FRAMES_PIXELS = 512 * 512   # a series this small in total (pixels of all frames) is read whole
PADDING = 3                # pixels around a blanked region, at least
PADDING_FRACTION = 0.25    # and a quarter of the line's height (ascenders, descenders, antialiasing)
VERIFY_PASSES = 3
# A detected region that reads as fewer than two letters or digits and is taller than this
# (pixels, or this part of the rows) while not wider than twice its height, or taller than
# three times that part of the rows whatever its width, is a blob of anatomy or a drawn shape,
# not text: one or no character identifies nobody, and blanking it would destroy image
# content. Any other region, and any region read as two characters or more, is text.
BLOB_HEIGHT, BLOB_HEIGHT_FRACTION = 16, 0.06
LINE_GAP = 1.5             # regions on one row closer than this many heights are one line
# The second reader (Tesseract) reads "Pea", "ay us" in tissue, with confidences of 0.3-0.5: a
# reading only it makes counts as text from 3 letters or digits at this confidence, or from
# SECOND_READER_LONG at any; anything identifying always counts.
SECOND_READER_CONFIDENCE, SECOND_READER_LONG = 0.6, 6


@dataclass
class MaskedRegion:
    """A rectangle found or blanked by clean_pixels, in pixels of the frame: `x`, `y` (top left, from 0),
    `width`, `height`; `why` it was found; the `text` read there (identity: for the key holders' report
    only, never a log), the reader's `confidence` (0-1) and the `frame` index it was found on."""
    x: int
    y: int
    width: int
    height: int
    why: str           # "rule: <name>", "text (detector)", "text (second reader: ...)"
    text: str = ""     # what was read there: identity, for the key holders' report only
    confidence: float = 0.0
    frame: int = 0     # index of the frame it was found on (blanked on every frame); a rule's: 0


@dataclass
class PixelCleaning:
    """What clean_pixels did to one data set: the regions blanked, kept (explained by the vocabulary)
    and still unexplained after the last check (MaskedRegion lists); the frame count and the indexes
    read; `verified` and `changed` (see the fields' comments); the second reader's name; the transfer
    syntax the pixels now need; PNG bytes of the shown frame before and after (identity: report only)."""
    regions: list = field(default_factory=list)      # MaskedRegion blanked
    kept: list = field(default_factory=list)         # MaskedRegion explained by the vocabulary (left as they are)
    unexplained: list = field(default_factory=list)  # MaskedRegion still found by the last check
    frames: int = 0
    frames_read: list = field(default_factory=list)
    verified: bool = False       # the last check (detector and second reader) found nothing unexplained
    changed: bool = False        # pixels were blanked (and written back uncompressed)
    second_reader: str = ""
    transfer_syntax: str = str(OUTPUT_TRANSFER_SYNTAX)
    before_png: bytes = b""      # the shown frame at full resolution, colour kept, for the key holders' report
    after_png: bytes = b""       # (shows what was there: identity)
    shown_frame: int = 0         # the first frame a region was found on (0 when none): what the pictures show
    # {frame: {"before": PNG, "after": PNG}} of every frame a region was found on, the shown one included:
    # each region's crop comes from its own frame (report_images)
    frame_pictures: dict = field(default_factory=dict)


def sampled_frames(count: int, limit: int = MAX_OCR_FRAMES, frame_pixels: int = 0) -> list:
    """The frames to read: all of a short series or of one small in total, else `limit` spread over it."""
    if count <= limit or count * frame_pixels <= ALL_FRAMES_PIXELS:
        return list(range(count))
    step = (count - 1) / (limit - 1)
    return sorted({round(i * step) for i in range(limit)})


def clean_pixels(dataset, judge: IdentifyingText, rule_regions=(), vocabulary: Vocabulary | None = None,
                 cache=None) -> PixelCleaning:
    """Clean `dataset`'s pixels in place. Raises PixelDecodeError or OcrUnavailable (nothing changed then).
    With `cache` (pixel_cache.PixelCache), an outcome kept for the same pixels, header values, rules,
    vocabulary and engine versions is used again (its rectangles blanked, nothing read), and a new
    one is kept."""
    vocabulary = vocabulary or load_vocabulary()
    frames = decode_frames(dataset)
    name = None
    if cache is not None:
        from .pixel_cache import fingerprint
        name = cache.name(fingerprint(frames, judge, rule_regions, vocabulary))
        entry = cache.load(name)
        if entry is not None:
            return _replayed(dataset, frames, entry)
    outcome = PixelCleaning(frames=frames.shape[0],
                            frames_read=sampled_frames(frames.shape[0], frame_pixels=frames.shape[1] * frames.shape[2]),
                            second_reader=second_reader_name())
    fill = frames.min()
    # the read frames before anything is blanked, for the "before" pictures of the frames text is found
    # on (the frames are cleaned in place: memory); at most MAX_OCR_FRAMES of them
    originals = {index: frames[index].copy() for index in outcome.frames_read}
    originals.setdefault(0, frames[0].copy())
    # The first frame in 8-bit grey before anything is blanked: for a grey frame, what the detector sees
    # (detector_image is to_grey8 then).
    first = to_grey8(frames[0])
    for name, (x, y, width, height) in rule_regions:
        _blank(frames, outcome, MaskedRegion(x, y, width, height, f"rule: {name}"), fill, margin=False)
    rows = frames.shape[1]
    for index in outcome.frames_read:
        image = first if index == 0 and frames.ndim == 3 and not rule_regions else detector_image(frames[index])
        for region in _detected_lines(image, rows):
            _judge(frames, outcome, region, "text (detector)", vocabulary, judge, fill, index)
    greys = {}
    for attempt in range(VERIFY_PASSES):
        found = {}
        for index in outcome.frames_read:
            grey = greys[index] = to_grey8(frames[index])
            # The detector again, finding only: a region that is not one it kept is unexplained, whatever
            # it reads. Pixels that nothing blanked are those it has just seen: it would find the same.
            left = [] if not outcome.changed else [
                (r, "text (detector, check)")
                for r in _detected_lines(grey if frames.ndim == 3 else detector_image(frames[index]), rows, read=False)
                if not any(_overlap(r, kept) > 0.5 for kept in outcome.kept)]
            left += [(r, f"text (second reader: {r.reader})") for r in second_reading(grey)]
            found[index] = [(r, why) for r, why in left
                            if not _blob(r, rows) and not _explained(r, outcome, vocabulary, judge)]
        outcome.unexplained = [_masked(r, why, index) for index, boxes in found.items() for r, why in boxes]
        if not outcome.unexplained:
            outcome.verified = True
            break
        if attempt == VERIFY_PASSES - 1:
            break   # text still found after blanking: not verified; the caller holds the file for review
        for region in outcome.unexplained:   # blanked on every frame: every read frame is checked again
            _blank(frames, outcome, region, fill)
    _pictures(outcome, originals, frames)
    if outcome.changed:
        encode_native(dataset, frames)
    if cache is not None:
        cache.save(name, outcome_entry(outcome))
    return outcome


def outcome_entry(outcome: PixelCleaning) -> dict:
    """What a cleaning decided, for pixel_cache: every field but the pixels and thumbnails."""
    return {"frames_read": [int(i) for i in outcome.frames_read], "second_reader": outcome.second_reader,
            "verified": bool(outcome.verified),
            **{part: [{k: (v.item() if hasattr(v, "item") else v) for k, v in vars(r).items()}
                      for r in getattr(outcome, part)] for part in ("regions", "kept", "unexplained")}}


def _replayed(dataset, frames, entry: dict) -> PixelCleaning:
    """A kept outcome applied to the same decoded pixels: its rectangles (margins included) blanked
    with the same fill, so the pixels written are those of the run that decided."""
    outcome = PixelCleaning(frames=frames.shape[0], frames_read=list(entry["frames_read"]),
                            verified=bool(entry["verified"]), second_reader=entry["second_reader"],
                            **{part: [MaskedRegion(**r) for r in entry[part]] for part in ("regions", "kept", "unexplained")})
    fill = frames.min()
    originals = {index: frames[index].copy() for index in {0, *(r.frame for r in outcome.regions + outcome.unexplained)}
                 if index < frames.shape[0]}
    for region in outcome.regions:
        frames[:, region.y:region.y + region.height, region.x:region.x + region.width] = fill
    outcome.changed = bool(outcome.regions)
    _pictures(outcome, originals, frames)   # as clean_pixels
    if outcome.changed:
        encode_native(dataset, frames)
    return outcome


def _pictures(outcome: PixelCleaning, originals: dict, frames) -> None:
    """The before and after pictures of every frame a region was found on (originals: {frame: its pixels
    before blanking}); the first of them is the shown frame (frame 0 when none). Each frame on one scale
    for both pictures, so only the blanks differ."""
    found = sorted({r.frame for r in outcome.regions + outcome.unexplained if r.frame in originals}) or [0]
    for index in found:
        original = originals[index]
        span = (float(original.min()), float(original.max()))
        outcome.frame_pictures[index] = {"before": picture(original, span), "after": picture(frames[index], span)}
    outcome.shown_frame = found[0]
    outcome.before_png = outcome.frame_pictures[found[0]]["before"]
    outcome.after_png = outcome.frame_pictures[found[0]]["after"]


def _masked(region, why: str, frame: int = 0) -> MaskedRegion:
    return MaskedRegion(region.x, region.y, region.width, region.height, why, region.text,
                        round(region.confidence, 3), frame)


def _explained(region, outcome: PixelCleaning, vocabulary: Vocabulary, judge) -> bool:
    """A region found by a check may stay when the detector explained it earlier (it overlaps a kept
    region and reads as annotation there too), or when it is the second reader's noise on anatomy
    (Tesseract reads "og", "pp" in tissue): fewer than three letters or digits, nothing identifying."""
    if judge.identifies(region.text):
        return False
    if region.reader == "detector" and vocabulary.explains(region.text, region.confidence, judge):
        return True
    if any(_overlap(region, kept) > 0.5 for kept in outcome.kept):
        return vocabulary.explains(region.text, max(region.confidence, vocabulary.min_confidence), judge)
    if region.reader == "detector":
        return False
    characters = sum(c.isalnum() for c in region.text)
    return characters < 3 or (characters < SECOND_READER_LONG and region.confidence < SECOND_READER_CONFIDENCE)


def text_lines(regions) -> list:
    """Detected regions joined into whole lines: the detector may split a line at a gap ("ID: 12" and
    "4-567"), and blanking the pieces would leave the characters between them. Two regions are one
    line when they overlap by half the lower one's height and the gap between them is under
    LINE_GAP heights; the line reads as its pieces left to right, as sure as its least sure piece."""
    lines = sorted(regions, key=lambda r: r.x)
    merged = True
    while merged:
        merged = False
        for i, a in enumerate(lines):
            for j in range(i + 1, len(lines)):
                b = lines[j]
                overlap = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
                gap = max(a.x, b.x) - min(a.x + a.width, b.x + b.width)
                if overlap >= 0.5 * min(a.height, b.height) and gap <= LINE_GAP * max(a.height, b.height):
                    left, top = min(a.x, b.x), min(a.y, b.y)
                    right, bottom = max(a.x + a.width, b.x + b.width), max(a.y + a.height, b.y + b.height)
                    first, second = (a, b) if a.x <= b.x else (b, a)
                    lines[i] = TextRegion(left, top, right - left, bottom - top, f"{first.text} {second.text}".strip(),
                                          min(a.confidence, b.confidence), a.reader)
                    del lines[j]
                    merged = True
                    break
            if merged:
                break
    return lines


def _detected_lines(image, rows: int, read: bool = True) -> list:
    """The detector's regions on a frame as the detector sees it (detector_image), blobs left out, joined into lines."""
    return text_lines([region for region in detect_text(image, read=read) if not _blob(region, rows)])


def _blob(region, rows: int) -> bool:
    characters = sum(c.isalnum() for c in region.text)
    tall = region.height > max(BLOB_HEIGHT, BLOB_HEIGHT_FRACTION * rows)
    return characters < 2 and tall and (region.width <= 2 * region.height or region.height > 3 * BLOB_HEIGHT_FRACTION * rows)


def _overlap(a, b) -> float:
    """The part of a's area inside b."""
    width = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    height = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    return max(0, width) * max(0, height) / max(1, a.width * a.height)


def _judge(frames, outcome, region, why, vocabulary, judge, fill, frame: int = 0) -> None:
    if vocabulary.explains(region.text, region.confidence, judge):
        outcome.kept.append(_masked(region, "annotation on the vocabulary (kept)", frame))
    else:
        _blank(frames, outcome, _masked(region, why, frame), fill)


def _blank(frames, outcome, region: MaskedRegion, fill, margin: bool = True) -> None:
    rows, columns = frames.shape[1], frames.shape[2]
    pad = max(PADDING, round(PADDING_FRACTION * region.height)) if margin else 0
    left, top = max(0, int(region.x) - pad), max(0, int(region.y) - pad)
    right = min(columns, int(region.x + region.width) + pad)
    bottom = min(rows, int(region.y + region.height) + pad)
    if right <= left or bottom <= top:
        return
    frames[:, top:bottom, left:right] = fill
    outcome.changed = True
    blanked = MaskedRegion(left, top, right - left, bottom - top, region.why, region.text, region.confidence,
                           region.frame)
    # the same rectangle found again (on another frame, by the check): listed once, with its first frame
    if not any(replace(r, frame=region.frame) == blanked for r in outcome.regions):
        outcome.regions.append(blanked)


