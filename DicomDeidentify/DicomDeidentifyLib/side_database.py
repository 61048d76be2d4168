"""What a side database is: a folder of de-identified DICOM files that Slicer indexes as a DICOM
database of its own, recognised by a marker file. No pydicom here: the DICOM module's import hook
needs these rules at Slicer's start (review NC1), before any run.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import SideDatabaseRefused
from .marker_files import write_marker

SIDE_DATABASE_MARKER = "slicer-deidentify-side-database.json"
CTK_DATABASE_FILE = "ctkDICOM.sql"   # what marks a folder as a ctkDICOMDatabase (Slicer's DICOM database)


def _same_folder(a, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:   # one of them does not exist: compare the normalized paths
        return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def side_database_refusal(folder, main_database=None) -> str | None:
    """Why `folder` must not become (or be used as) a side database, or None (review N2). A side
    database is a folder that does not exist yet, is empty, or already carries the marker. Refused:
    the folder Slicer records as its DICOM database (`main_database`, absolute), a folder holding
    ctkDICOM.sql without the marker (one of Slicer's DICOM databases, full of identified files), and
    a folder with other content (marking it would label files this project did not write as
    de-identified). The text names no path."""
    folder = Path(folder)
    if main_database and _same_folder(folder, main_database):
        return ("The folder chosen as the side database is Slicer's main DICOM database: choose another "
                "folder (an empty or new one) in DICOM De-identify.")
    # Inside the main database, or inside any of Slicer's DICOM databases (ctkDICOM.sql without the
    # marker), at any depth: that folder's layout is Slicer's, and it holds identified files (review 3, R3).
    absolute = Path(os.path.abspath(folder))
    for parent in absolute.parents:
        if (main_database and _same_folder(parent, main_database)) or (
                (parent / CTK_DATABASE_FILE).exists() and not is_side_database(parent)):
            return ("The folder chosen as the side database lies inside a DICOM database of Slicer's: choose a "
                    "folder (an empty or new one) outside it in DICOM De-identify.")
    if is_side_database(folder) or not folder.exists():
        return None
    if not folder.is_dir():
        return "The path chosen as the side database is a file, not a folder: choose an empty or new folder."
    if (folder / CTK_DATABASE_FILE).exists():
        return (f"The folder chosen as the side database is a DICOM database of Slicer's (it holds "
                f"{CTK_DATABASE_FILE} and is not marked as de-identified): choose an empty or new folder.")
    if any(folder.iterdir()):
        return ("The folder chosen as the side database already holds files and is not a side database: "
                "choose an empty or new folder.")
    return None


def mark_side_database(folder: Path, main_database=None, fingerprint: str | None = None) -> None:
    """A small marker that says what the folder is; it holds nothing secret (with `fingerprint`, the
    key's fingerprint: marker_files.py; a marker without one gets it). Raises SideDatabaseRefused for a
    folder side_database_refusal refuses (nothing is written then), ValueError when the marker records
    another key's fingerprint."""
    folder = Path(folder)
    refusal = side_database_refusal(folder, main_database)
    if refusal:
        raise SideDatabaseRefused(refusal)
    folder.mkdir(parents=True, exist_ok=True)
    write_marker(folder / SIDE_DATABASE_MARKER, fingerprint)


def is_side_database(folder: Path) -> bool:
    """Whether `folder` holds this tool's side database marker (SIDE_DATABASE_MARKER); no other check."""
    return (Path(folder) / SIDE_DATABASE_MARKER).exists()
