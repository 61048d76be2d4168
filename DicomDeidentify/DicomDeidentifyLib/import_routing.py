"""What "Anonymize on import" decides, without Qt: the Slicer glue (DicomDeidentifySlicer/import_hook.py)
reads widgets and settings, asks these functions, and applies the answer.

The Slicer facts behind the rules (Slicer v5.8.0 d20ee94c, v5.10.0 a2b6d082, main 583e9b37):
  * Add Data with N DICOM files calls DICOMFileReader.load once per file, and each call imports the
    file's folder: `browserWidget.importDirectory(os.path.dirname(...))` (Modules/Scripted/DICOM/DICOM.py
    5.8:981-990, 5.10:985-992, main:1435-1442). N routed calls must become one run per distinct folder.
  * Folders are de-identified recursively (batch.iter_input_files walks them), so a folder inside
    another listed folder adds nothing.
  * ctkDICOMBrowser.setDatabaseDirectory stores the folder it opens under its settings key
    (CTK Libs/DICOM/Widgets/ctkDICOMBrowser.cpp 82cae578:619-709, 5056664a:560-650), which Slicer sets
    to slicer.dicomDatabaseDirectorySettingsKey (DICOMLib/DICOMBrowser.py 5.8:171, main:200). The value
    may be relative to Slicer's home (`ctk::internalPathFromAbsolute`, base set in
    Base/QTGUI/qSlicerApplication.cxx 5.8:1393, main:1416).
  * ctkDICOMDatabase emits databaseChanged() when its file changes on disk (a QFileSystemWatcher,
    ctkDICOMDatabase.cpp 82cae578:1513-1514, 5056664a:1590-1591), whoever wrote it; it says nothing
    about what changed, so inserts are found by comparing the database with a baseline.
Nothing here logs or returns an identifying value: incidents name counts only.
"""
from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .errors import SafeError
from .side_database import is_side_database

log = logging.getLogger(__name__)

# The SlicerDICOMBrowser methods every import entry point of the DICOM module goes through
# (DICOMLib/DICOMBrowser.py 5.8/5.10:129-145, main:141-157; their signatures are (self),
# (self, directoriesToAdd) and (self, dicomFilesDirectory) in all three).
ROUTED_METHODS = ("importFolder", "importDirectories", "importDirectory")


def parse_bool(value, default: bool = False) -> bool:
    """A boolean setting as QSettings returns it: "true"/"false" from an INI file, a bool, or None."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "on")


class ObservedSetting:
    """A boolean setting with observers: every change, wherever it comes from (the DICOM module's menu
    action, the DICOM De-identify panel's checkbox, a script), reaches every observer, so no control
    shows a stale state. `read()` returns the stored value, `write(bool)` stores it."""

    def __init__(self, read: Callable[[], bool], write: Callable[[bool], None]):
        self._read, self._write = read, write
        self._observers: list = []

    def get(self) -> bool:
        """The stored value, as a bool."""
        return bool(self._read())

    def set(self, enabled) -> bool:
        """Store `enabled`; observers are told when the stored value changed. Returns whether it did."""
        enabled = bool(enabled)
        changed = self.get() != enabled
        if changed:
            self._write(enabled)
            self.notify()
        return changed

    def add_observer(self, callback: Callable[[bool], None]) -> None:
        """`callback(enabled)` after every change; added once however often it is registered."""
        if callback not in self._observers:
            self._observers.append(callback)

    def remove_observer(self, callback) -> None:
        """Stop calling `callback`; nothing happens if it was not registered."""
        if callback in self._observers:
            self._observers.remove(callback)

    def notify(self) -> None:
        """Call every observer with the stored value. An observer that raises (a panel whose widgets
        were deleted) is logged and dropped; the others are still called."""
        enabled = self.get()
        for callback in list(self._observers):
            try:
                callback(enabled)
            except Exception:
                log.exception("an observer of the setting failed and was removed")
                self.remove_observer(callback)


def _normalized(path) -> str:
    return os.path.normpath(os.path.abspath(os.fspath(path)))


def _inside(path: str, folder: str) -> bool:
    """Whether `path` is `folder` or below it (both normalized; no file system access)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def coalesce_directories(paths: Iterable) -> list:
    """The folders to de-identify for these routed import calls: absolute, normalized, each once, in
    first-seen order, without folders that lie inside another listed folder (runs are recursive)."""
    unique: list = []
    for path in paths:
        path = _normalized(path)
        if path not in unique:
            unique.append(path)
    return [p for p in unique if not any(q != p and _inside(p, q) for q in unique)]


def split_routable(paths: Iterable, side_database) -> tuple:
    """(paths to de-identify, paths refused), both coalesced: a path that is the side database or lies
    inside it is refused, since its files are there already (de-identified, or brought in by another
    route; runs.deidentify_folder refuses such an input too). A folder that holds the side database
    is routed: the run leaves its destination out of the walk (batch.iter_input_files' exclude)."""
    side = os.path.realpath(side_database) if side_database else None
    routable, refused = [], []
    for path in paths:
        path = _normalized(path)
        (refused if side and _inside(os.path.realpath(path), side) else routable).append(path)
    return coalesce_directories(routable), coalesce_directories(refused)


class PendingImports:
    """Routed importDirectory calls gathered until they stop coming (one run for Add Data's N files).
    `add` says whether this is the first call since the last take."""

    def __init__(self):
        self._paths: list = []

    def add(self, paths: Iterable) -> bool:
        """Gather the routed `paths` (normalized); returns True when this call is the first since the last
        take and brought at least one path (the caller then schedules the run)."""
        first = not self._paths
        self._paths.extend(_normalized(p) for p in paths)
        return first and bool(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def take(self) -> list:
        """The coalesced folders, and nothing pending afterwards."""
        paths, self._paths = self._paths, []
        return coalesce_directories(paths)


class GateBusy(SafeError, RuntimeError):
    """Raised by ImportGate.hold while another run holds the gate; its text is the refusal."""


class ImportGate:
    """One de-identification run at a time: an import into the side database, the review's release,
    and the panel's "De-identify folder" (review N6). A run is on the GUI thread and processes events
    (progress; ctkDICOMIndexer.waitForImportFinished's own QEventLoop, CTK ctkDICOMIndexer.cpp
    82cae578:651-665; after Cancel the modal dialog is hidden while the current file finishes), so
    another run, or a switch of the shown database, could start inside it: all are refused."""

    def __init__(self):
        self._busy = False

    @property
    def busy(self) -> bool:
        """Whether a run holds the gate."""
        return self._busy

    def enter(self) -> bool:
        """Start a run: False (and nothing changes) while one runs."""
        if self._busy:
            return False
        self._busy = True
        return True

    def leave(self) -> None:
        """End the run that entered; the gate is free again."""
        self._busy = False

    @contextlib.contextmanager
    def hold(self, what: str):
        """Hold the gate for the block; GateBusy (with the refusal for `what`) while a run holds it."""
        if not self.enter():
            raise GateBusy(self.refusal(what))
        try:
            yield
        finally:
            self.leave()

    def refusal(self, what: str) -> str | None:
        """The message for refusing `what` ("import", "switch", "release", "run") while busy; None when
        allowed."""
        if not self._busy:
            return None
        running = "A de-identification run is in progress"
        if what == "switch":
            return f"{running}: the shown DICOM database cannot change until it ends."
        if what == "release":
            return f"{running}: the held files were not released. Release them when it ends."
        if what == "run":
            return f"{running}: this folder was not de-identified. Start it again when the run ends."
        return f"{running}: this import was not started. Import again when it ends."


DEIDENTIFY, ORIGINAL, REFUSE = "deidentify", "original", "refuse"

ORIGINALS_INTO_SIDE_REFUSED = (
    "The de-identified side database is shown, and \"Anonymize on import\" is off: nothing was imported, "
    "because original files must never enter the side database. To import the originals, click "
    "\"Show main database\" first; to import de-identified copies, turn \"Anonymize on import\" on.")


def import_route(*, anonymize_on_import: bool, side_shown: bool) -> str:
    """What a routed import call of the DICOM module does (review N1):
      * DEIDENTIFY with "Anonymize on import" on (the copies go to the side database);
      * ORIGINAL (Slicer's own method) with the option off and the main database shown;
      * REFUSE with the option off and the side database shown: Slicer's method would index the
        original files, and copy them, into the shown database, which is the side one.
    Refusing, rather than de-identifying anyway, because the user turned de-identification off and
    expects the originals: silently producing pseudonymized copies would be a surprise too, and the
    refusal (ORIGINALS_INTO_SIDE_REFUSED) says which of the two clicks gives what they want."""
    if anonymize_on_import:
        return DEIDENTIFY
    return REFUSE if side_shown else ORIGINAL


@dataclass(frozen=True)
class ControlsState:
    """What the DICOM module's controls show. indicator_text is for a word-wrapped label, button_text
    for a short button next to it."""
    indicator_text: str
    indicator_tooltip: str
    button_text: str
    button_enabled: bool
    highlight: bool               # the label is drawn as a warning (the side database is shown)
    action_checked: bool          # "Anonymize on import" in the Import options menu
    copy_on_import_enabled: bool  # "Copy imported files to DICOM database" means nothing while routed


def controls_state(*, side_shown: bool, anonymize_on_import: bool, busy: bool = False,
                   database_open: bool = True) -> ControlsState:
    """The controls for one state of the hook (no paths in the label: they may name people)."""
    tooltip = ("Which DICOM database the browser shows. With \"Anonymize on import\" on, imports go, "
               "de-identified, into the side database; the originals are read, never indexed or copied.")
    if busy:
        text, button, enabled = "De-identification running...", "Wait", False
    elif not database_open:
        text, button, enabled = "No DICOM database is open.", "Show side database", True
    elif side_shown:
        text = "Showing the DE-IDENTIFIED side database (not your main DICOM database)."
        button, enabled = "Show main database", True
    else:
        text = ("Showing your main DICOM database. Anonymize on import is "
                + ("ON: imports go, de-identified, to the side database." if anonymize_on_import else "off."))
        button, enabled = "Show side database", True
    # "Copy imported files to DICOM database" matters only where Slicer's own import runs: with the
    # option on the copies are written by the run, and with the side database shown nothing of Slicer's
    # import runs (import_route refuses it, review N1).
    return ControlsState(text, tooltip, button, enabled, side_shown and not busy, anonymize_on_import,
                         not anonymize_on_import and not side_shown)


def shows_folder(shown_directory, folder) -> bool:
    """Whether the database shown (its databaseDirectory, or None/"" when none is open) is `folder`
    (the same folder on disk, else the same normalized path). "Show side database" switches unless the
    CONFIGURED side database is shown: another side database being shown is not enough, or after a
    change of the setting the browser would keep the old one while imports go to the new (review N5)."""
    if not shown_directory or not folder:
        return False
    try:
        return os.path.samefile(shown_directory, folder)
    except OSError:
        return _normalized(shown_directory) == _normalized(folder)


def absolute_from_internal(path: str, base: str = "") -> str:
    """ctk::absolutePathFromInternal: a relative path is relative to `base` (Slicer's home)."""
    if not path or os.path.isabs(path) or not base:
        return path
    return os.path.join(base, path)


def main_database_directory(recorded, base: str = "") -> str | None:
    """The main DICOM database "Show main database" returns to: the folder Slicer records under
    slicer.dicomDatabaseDirectorySettingsKey (the hook puts that key back after showing the side
    database), made absolute against `base`. None when nothing is recorded or the recorded folder is
    a side database (Slicer must never take it for the main one)."""
    if not recorded:
        return None
    directory = absolute_from_internal(str(recorded), base)
    if is_side_database(Path(directory)):
        log.warning("Slicer's recorded DICOM database is a de-identified side database; not shown as the main one")
        return None
    return directory


@dataclass(frozen=True)
class DatabaseSnapshot:
    """What a DICOM database holds at one moment: its folder, its instance count
    (ctkDICOMDatabase.imagesCount()) and, where listed, its SOP Instance UIDs."""
    directory: str
    instance_count: int
    sop_instance_uids: frozenset | None = None


def sop_instance_uids(files: Iterable) -> frozenset:
    """The SOP Instance UIDs of these DICOM files (this module's own outputs), read with pydicom
    (only that element). A file that cannot be read adds nothing, so its instance would be reported
    as foreign: a false alarm rather than a hidden insert."""
    import pydicom   # here, not at import time: the hook imports this module at Slicer's start (NC1)
    uids = set()
    for path in files:
        try:
            uid = pydicom.dcmread(os.fspath(path), stop_before_pixels=True,
                                  specific_tags=["SOPInstanceUID"]).get("SOPInstanceUID")
        except Exception:   # not DICOM, gone: logged without its path
            log.warning("an own file's SOP Instance UID could not be read")
            continue
        if uid:
            uids.add(str(uid))
    return frozenset(uids)


def foreign_instance_count(baseline: DatabaseSnapshot | None, current: DatabaseSnapshot, own: int = 0,
                           own_uids: frozenset | None = None) -> int:
    """How many instances entered the database between the two snapshots by another route than the
    hook's own imports. 0 when there is no baseline or the database was switched (a new baseline is
    due). With UIDs on both sides, new UIDs are counted (so a removal does not hide an insert) and the
    own ones, `own_uids`, are taken out as a set: a re-import of files already there adds no UID, so
    subtracting a count would hide as many foreign instances (review N7). Without `own_uids`, or
    without listed UIDs (a large main database), `own` instances are subtracted from the growth."""
    if baseline is None or _normalized(baseline.directory) != _normalized(current.directory):
        return 0
    if baseline.sop_instance_uids is not None and current.sop_instance_uids is not None:
        new = current.sop_instance_uids - baseline.sop_instance_uids
        if own_uids is not None:
            return len(new - own_uids)
        added = len(new)
    else:
        added = current.instance_count - baseline.instance_count
    return max(0, added - max(0, own))


def foreign_insert_incident(count: int, *, side_shown: bool, anonymize_on_import: bool) -> str | None:
    """The incident to report for `count` foreign instances, or None when there is nothing to report.
    Into the side database this is always an incident (it must hold de-identified files only); into
    the main database only while "Anonymize on import" is on (the user expects nothing identified to
    enter). The text names the count, never a value."""
    if count <= 0 or not (side_shown or anonymize_on_import):
        return None
    routes = ("the DICOM listener, query/retrieve, DICOMweb, the DICOM Patcher's Import, or a script "
              "indexing files directly")
    if side_shown:
        return (f"{count} DICOM instance(s) entered the DE-IDENTIFIED side database without going through "
                f"\"Anonymize on import\" ({routes}). They were not de-identified: treat the side database "
                "as holding patient information until they are removed.")
    return (f"{count} DICOM instance(s) entered your main DICOM database without de-identification ({routes} "
            "do not go through \"Anonymize on import\"). Their original patient information is in that database.")
