"""Compare an original with its de-identified copy, attribute by attribute (files or folders).

Folders are paired by SOP Instance UID: each original's UID is mapped with the
key (as the engine maps it) and looked up among the de-identified files. The HTML
page (templates/compare.html.j2) shows both images of each pair too (write_page).
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import pydicom

from .batch import iter_input_files
from .keyed_hash import KeyedHasher
from .uids import UidMapper, is_standard_uid

REMOVED, REPLACED, KEPT, ADDED = "removed", "replaced", "kept", "added"
MAX_SHOWN = 120


@dataclass
class Difference:
    """One attribute of a compared pair: `path` (flatten's attribute path, e.g.
    'OtherPatientIDsSequence[0].PatientID'), `status` (REMOVED, REPLACED, KEPT or ADDED) and the
    `original` and `new` values as shown (str, at most MAX_SHOWN characters, then '...'; '' on the
    side where the attribute is absent)."""
    path: str
    status: str
    original: str
    new: str


def flatten(dataset, prefix: str = "") -> dict:
    """{attribute path: shown value} over every nesting depth; pixel data only by size."""
    values = {}
    for element in dataset:
        name = element.keyword or f"({element.tag.group:04X},{element.tag.element:04X})"
        path = f"{prefix}{name}"
        if element.VR == "SQ":
            values[path] = f"<{len(element.value)} items>"
            for index, item in enumerate(element.value):
                values.update(flatten(item, f"{path}[{index}]."))
        elif isinstance(element.value, (bytes, bytearray)):
            values[path] = f"<{len(element.value)} bytes>"
        else:
            text = str(element.value)
            values[path] = text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."
    return values


def compare_datasets(original, deidentified) -> list:
    """One Difference per attribute path of either data set (pydicom Datasets, every nesting depth),
    sorted by path: removed, added, replaced (shown values differ) or kept. Values are compared as
    flatten shows them, so binary values compare by their length only."""
    before, after = flatten(original), flatten(deidentified)
    differences = []
    for path in sorted(set(before) | set(after)):
        if path not in after:
            differences.append(Difference(path, REMOVED, before[path], ""))
        elif path not in before:
            differences.append(Difference(path, ADDED, "", after[path]))
        elif before[path] != after[path]:
            differences.append(Difference(path, REPLACED, before[path], after[path]))
        else:
            differences.append(Difference(path, KEPT, before[path], after[path]))
    return differences


def pair_files(original: Path, deidentified: Path, key: bytes | None) -> list:
    """[(original file, de-identified file)]: two files as given, two folders by mapped SOP Instance UID."""
    original, deidentified = Path(original), Path(deidentified)
    if original.is_file() and deidentified.is_file():
        return [(original, deidentified)]
    if not (original.is_dir() and deidentified.is_dir()):
        raise ValueError("compare two files or two folders")
    by_uid = {}
    for path in iter_input_files([deidentified]):
        uid = _sop_instance_uid(path)
        if uid:
            by_uid[uid] = path
    mapper = UidMapper(KeyedHasher(key)) if key else None
    pairs = []
    for path in iter_input_files([original]):
        uid = _sop_instance_uid(path)
        if not uid:
            continue
        candidates = [uid] + ([mapper.map(uid)] if mapper and not is_standard_uid(uid) else [])
        match = next((by_uid[c] for c in candidates if c in by_uid), None)
        if match is not None:
            pairs.append((path, match))
    return pairs


def pair_recorded(original: Path, deidentified: Path, recorded: dict) -> tuple:
    """Folders paired by what the linkage store recorded (LinkageStore.recorded_files: input path ->
    (status, output, reason)), never by position or by a UID two inputs may share (a truncated copy):
    ([(original, de-identified)], [(original, reason)] of inputs whose latest run failed or wrote
    nothing in `deidentified`, [originals the store does not know])."""
    by_path = {os.path.realpath(source): entry for source, entry in recorded.items()}
    inside = os.path.realpath(deidentified)
    pairs, failed, unknown = [], [], []
    for path in iter_input_files([Path(original)]):
        entry = by_path.get(os.path.realpath(path))
        if entry is None:
            unknown.append(path)
            continue
        status, output, reason = entry
        if status == "failed":
            failed.append((path, reason))
        elif output and os.path.realpath(output).startswith(inside + os.sep) and Path(output).is_file():
            pairs.append((path, Path(output)))
        else:
            failed.append((path, f"{status}: no output in {deidentified}" + (f" ({reason})" if reason else "")))
    return pairs, failed, unknown


def read_side(path: Path):
    """One side of a pair, read as `anonymize` reads its inputs (dicom_io.read_dataset), pydicom's
    warnings silenced (a raw library warning never reaches the console); DicomReadError with the
    reason in words ("not a DICOM file (...)", "truncated ...") when it cannot be compared."""
    from .dicom_io import read_dataset
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_dataset(Path(path))


def _sop_instance_uid(path: Path) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset = pydicom.dcmread(str(path), stop_before_pixels=True, force=True)
    except Exception:
        return ""
    return str(dataset.get("SOPInstanceUID", "") or "")


def render_text(pairs_with_differences: list, show_kept: bool = False) -> str:
    """The plain-text listing of `compare`: for each ((original path, de-identified path), [Difference])
    a '== original / de-identified' header, then one line per difference with both values quoted.
    Kept attributes are left out unless `show_kept`. The text holds the original values: it is for
    the user comparing their own files, never for a log."""
    lines = []
    for (original, deidentified), differences in pairs_with_differences:
        lines.append(f"== {original}\n   {deidentified}")
        for d in differences:
            if d.status == KEPT and not show_kept:
                continue
            lines.append(f"  {d.status:9} {d.path}: {d.original!r} -> {d.new!r}")
    return "\n".join(lines) + "\n"


def render_html(pairs_with_differences: list, images: list | None = None) -> str:
    """The side-by-side page (templates/compare.html.j2). `images`, one per pair: {"original": name,
    "deidentified": name} of PNG files relative to the page (a side without pixels: None), or None."""
    from .pages import render
    images = images or [None] * len(pairs_with_differences)
    return render("compare.html.j2", pairs=[{"original": str(original), "deidentified": str(deidentified),
                                             "differences": differences, "images": picture or {}}
                                            for ((original, deidentified), differences), picture
                                            in zip(pairs_with_differences, images)])


def pair_pictures(page: Path, number: int, original, deidentified) -> dict:
    """Write one frame of pair `number`'s two data sets (read with their pixels) at full resolution into
    <page name>_images beside `page` (owner-only): the frame where they differ most (burned-in text
    blanked on frame 3 shows frame 3), the first when none differs or they cannot be compared. Returns
    {"original": name, "deidentified": name, "frame": its index from 0} (names relative to the page, for
    the sides that have decodable pixels), or {"note": why} without the [pixels] extra (numpy, Pillow).
    Called pair by pair, so that no data set waits in memory."""
    from .extras import missing_pixel_modules
    if missing_pixel_modules():
        return {"note": "no pictures: the [pixels] extra (numpy, Pillow) is not installed"}
    from .keys import make_private_dir
    from .pixel_io import PixelDecodeError, decode_frames
    from .report_images import picture
    page = Path(page)
    folder = f"{page.stem}_images"
    frames = {}
    for side, dataset in (("original", original), ("deidentified", deidentified)):
        try:
            frames[side] = decode_frames(dataset)
        except PixelDecodeError:
            continue
    shown = _most_changed_frame(frames.get("original"), frames.get("deidentified"))
    names = {"frame": shown}
    for side, pixels in frames.items():
        make_private_dir(page.parent / folder)
        names[side] = f"{folder}/{number}-{side}.png"
        _write_private(page.parent / names[side], picture(pixels[min(shown, len(pixels) - 1)]))
    return names


def _most_changed_frame(before, after) -> int:
    """The index of the frame whose pixels differ most between two decoded series (frames, rows, columns[,
    samples]); 0 when they are missing, of other shapes, or the same."""
    import numpy as np
    if before is None or after is None or before.shape != after.shape or len(before) < 2:
        return 0
    # by how much, not how many pixels: a blank made on every frame changes as many pixels on each, but
    # most where the text was (its values, far from the fill)
    changed = [float(np.abs(b.astype(np.float64) - a).sum()) for b, a in zip(before, after)]
    return int(np.argmax(changed)) if max(changed) else 0


def write_page(page: Path, pairs_with_differences: list, images: list | None = None) -> None:
    """Write the side-by-side page (render_html) at `page`, owner-only, atomically; `images` from
    pair_pictures, one per pair."""
    _write_private(Path(page), render_html(pairs_with_differences, images).encode("utf-8"))


def _write_private(path: Path, data: bytes) -> None:
    """Owner-only (0600), atomically: never a half-written page, never a page another user can read."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.replace(temporary, path)
