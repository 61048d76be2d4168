"""Errors whose text may be shown and logged, and what to say about the others (review N4).

Slicer logs the text of every popup: slicer.util._messageDisplay runs `logging.log(logLevel, text)`
before it shows the box (Base/Python/slicer/util.py 5.8.0:3057, 5.10.0:3146, main 583e9b37:3437), and
tryWithErrorDisplay shows `f"{message}\\n\\n{e}"` that way (5.8.0:3279-3320). An exception's text may
quote an original path (folders of PACS and CD exports are often named after the patient) or a
value read from a file, so only a SafeError's text goes to the screen or the log; for any other
error the user reads its type and where the key holders' note with the details is.
"""
from __future__ import annotations

import datetime
import os
import traceback
from pathlib import Path


class SafeError(Exception):
    """An error of this project whose text names no identifying value (no original path, file name
    or element value): it may be shown and logged."""


class SideDatabaseRefused(SafeError, ValueError):
    """The folder configured as the side database cannot be one (it is Slicer's main database,
    another DICOM database, or a folder with other content)."""


class ProfileError(SafeError, ValueError):
    """A profile (the panel's settings or a profile file) that is not valid; the text names the
    setting and what is wrong with it. Profiles hold options, not patients' values (a fixed name is
    the replacement the user typed), so it may be shown (review 3, R1)."""


def error_kind(error: BaseException) -> str:
    """What a result (a reason, a review item, the report, the linkage store, the console) may say of
    an exception raised while a data set was read, decoded or written: its type only. pydicom's texts
    quote values (BytesLengthException "... received b'<value>'", the writer's OSError with a dump of
    the data element, valuerep's ValueError "'<value>' is not a valid ..."), so str(error) never goes
    into a result; the caller adds the attribute's tag or keyword and a fixed description. A SafeError
    (this project's, whose text names no value) keeps its text."""
    if isinstance(error, SafeError):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__


def shown_text(error: BaseException) -> str:
    """What a popup or a log line may say of `error`: a SafeError's text, else its type only."""
    if isinstance(error, SafeError):
        return str(error)
    return f"{type(error).__name__} (details in the key holders' notes, not shown here)"


def write_failure_note(folder, error: BaseException, what: str) -> Path:
    """Write `what` and the full traceback of `error` (which may name original files) into a new
    file in `folder` (the key holders' reports folder; created owner-only), readable by the owner
    only; returns its path."""
    from .keys import make_private_dir
    folder = Path(folder)
    make_private_dir(folder)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = folder / f"failure-{stamp}.txt"
    text = what + "\n\n" + "".join(traceback.format_exception(type(error), error, error.__traceback__))
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as note:
        note.write(text)
    return path


def failure_message(what: str, error: BaseException, note: Path | None) -> str:
    """The popup (and log line) for a failure: `what`, the shown_text of the error, where the note is."""
    text = f"{what}\n\n{shown_text(error)}"
    if note is not None and not isinstance(error, SafeError):
        text += f"\nThe details are in {note} (key holders only: it may name original files)."
    return text
