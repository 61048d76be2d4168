"""What a destination (an --output folder or a side database) is on disk, whichever key wrote it.

Every run that writes into an --output folder leaves OUTPUT_MARKER at its top: a small file that says
what the folder is and holds nothing identifying (no date, path or count; the key's fingerprint, a
keyed hash that neither is nor reveals the key: marker_files.py). A side database carries side_database.SIDE_DATABASE_MARKER. So a folder is known as a
destination by looking at it alone, without any linkage store (page_places looks up from a page's
folder: a page that shows original values is never written into what is shared, by any key).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .marker_files import write_marker
from .side_database import SIDE_DATABASE_MARKER

OUTPUT_MARKER = ".slicer-deidentify-destination.json"


def is_destination(folder: Path) -> bool:
    """Whether `folder` is the top of a destination: it carries OUTPUT_MARKER or the side database
    marker (a run's output folder, a side database, made with any key)."""
    folder = Path(folder)
    return (folder / OUTPUT_MARKER).is_file() or (folder / SIDE_DATABASE_MARKER).is_file()


def destination_marker(folder: Path) -> Path:
    """The marker file of the destination `folder`: the side database marker when it carries one, else
    OUTPUT_MARKER (existing or not)."""
    folder = Path(folder)
    side = folder / SIDE_DATABASE_MARKER
    return side if side.is_file() else folder / OUTPUT_MARKER


def refuse_inside_another_destination(destination: Path) -> None:
    """ValueError (one line: what is wrong and what to do) when `destination` (an --output folder or a
    side database, existing or not) lies inside another destination: a folder above it carries
    OUTPUT_MARKER or the side database marker. Its own marker records one key (marker_files.py), so a
    destination nested in it would mix a second key's outputs into what the outer one shares (and a
    side database nested in another is indexed twice by Slicer)."""
    destination = Path(os.path.realpath(destination))
    for folder in destination.parents:
        if is_destination(folder):
            kind = "side database" if (folder / SIDE_DATABASE_MARKER).is_file() else "output folder"
            raise ValueError(f"the destination {destination} is inside the {kind} {folder}, another run's "
                             f"destination: name {folder} itself (with the key its runs used) or a folder "
                             "outside it")


def mark_destination(folder: Path, fingerprint: str | None = None) -> None:
    """Leave OUTPUT_MARKER in `folder` (an existing --output folder) if it is not there, with the key
    `fingerprint` (marker_files.key_fingerprint) when given; a marker without one gets it. Atomic
    (marker_files.write_marker), so a reader never sees half of it; ValueError when the marker records
    another key's fingerprint."""
    write_marker(Path(folder) / OUTPUT_MARKER, fingerprint)


def check_destination_folder(folder: Path) -> None:
    """ValueError, one line naming the folder and what to do, when `folder` (a destination, existing or
    not) is a file or could not be made or written (a read-only disk, /proc, /sys, no permission).
    Nothing stays behind: the nearest existing folder is tried with an empty folder, removed at once
    (permission bits say nothing of /proc or a read-only mount). Called before a key, report or linkage
    record is made."""
    folder = Path(os.path.abspath(folder))
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "is a file" if existing == folder else f"is inside {existing}, a file"
        raise ValueError(f"the destination {folder} {what}, not a folder: name a folder (a missing one is made)")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".slicer-deidentify-probe-", dir=existing))
    except OSError as error:
        reason = (error.strerror or type(error).__name__).lower()
        where = "" if existing == folder else f" (in {existing})"
        raise ValueError(f"the destination folder {folder} cannot be {'written' if existing == folder else 'made'}"
                         f"{where}: {reason}; name a folder on a disk you can write to") from error


def make_destination_folder(folder: Path) -> Path:
    """Make `folder` and its missing parents; ValueError as check_destination_folder's when it cannot."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        check_destination_folder(folder)   # the one line that says why
        raise ValueError(f"the destination folder {folder} cannot be made ({error.strerror}): name a folder on "
                         "a disk you can write to") from error
    return folder
