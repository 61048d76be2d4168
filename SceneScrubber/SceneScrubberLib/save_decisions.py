"""What the Save dialog hook does once Slicer's Save dialog has run, decided without Qt.

The Slicer layer (SceneScrubberSlicer/save_dialog_hook.py) only reads the dialog and applies
the answer. Facts from Slicer's source (Slicer/Slicer, v5.8.0 d20ee94c, v5.10.0 a2b6d082,
main 583e9b37), Base/QTGUI/qSlicerSaveDataDialog.cxx:

  * `accept()` calls `done(QDialog::Accepted)` only when `save()` succeeded (main 641-648,
    5.10 642-649); a declined "replace?" (`confirmOverwrite`) or a failed writer leaves the
    dialog open, its result not Accepted.
  * The scene is written to `sceneFile()`: the scene row's directory (column 2) joined with
    its file name (column 0), or the scene's URL when that name is empty (main 949-965).
  * Every successful writer emits `qSlicerCoreIOManager::fileSaved(properties)` with the
    "fileName" it wrote (Base/QTCore/qSlicerCoreIOManager.cxx main 892, 5.10 870, 5.8 885).
  * `qSlicerSceneWriter::writeToMRB` sets the scene's URL to the target *before* writing
    (Modules/Loadable/Data/qSlicerSceneWriter.cxx main 168), so after a failed or declined
    save the URL can still name the user's earlier file: it is never scrubbed on the URL alone.
  * Slicer 5.10 only: `saveHiddenNodes()` writes every HideFromEditors + SaveWithScene node
    to `<sceneFile() folder>/Private/<name>.<ext>` before the scene (5.10 697-707, 869-950),
    each through `coreIOManager->saveNodes`, so each emits fileSaved. `sceneFile().absoluteDir()`
    is the folder that holds the target, also for a "Slicer Data Bundle (*)" folder target
    (5.10 930-932). For an .mrb or a bundle folder these files are left beside it, while it
    holds its own copies (Libs/MRML/Core/vtkMRMLScene.cxx 5.10 4306-4320 and 4362-4366:
    SaveSceneToSlicerDataBundleDirectory writes hidden nodes into the bundle's own Private/,
    always with WriteData). saveHiddenNodes never asks before replacing a file (no
    confirmOverwrite, 5.10 925-942, unlike a node row at 777), so a file already in that
    Private/ (another scene's, in the same folder) can be among them: only files that were not
    there when Save was pressed are removed (`private_listing`). Main removed that step
    (870f01fa "BUG: Fix leftover Private folder"); 5.8 has no saveHiddenNodes.
  * qSlicerSceneWriter::write picks the writer by the exact suffix: "mrml", "mrb", anything else
    a data-bundle folder (Modules/Loadable/Data/qSlicerSceneWriter.cxx main 105-116,
    QFileInfo::suffix compared case-sensitively).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from .after_save import finish_saved_scene
from .failed_outputs import remove_failed_save
from .policy import ScrubPolicy

log = logging.getLogger(__name__)

SCENE_SUFFIXES = (".mrml", ".mrb")
HIDDEN_NODES_FOLDER = "Private"   # qSlicerSaveDataDialog.cxx 5.10:931


@dataclass(frozen=True)
class SaveDecision:
    """What to do after a scrubbed save through the dialog.

    finish: scenes to finish (blank the screenshot) and check, absolute paths.
    stray_files: files this save made in the Private/ folder beside a saved .mrb or bundle
      folder (Slicer 5.10), to remove (copies of what the bundle holds).
    stray_folders: that Private/ folder if this save created it, to remove when empty afterwards.
    kept_private_files: files of that Private/ folder that this save wrote but that are not
      removed, because they were there before the save (Slicer replaced them; they may be another
      scene's) or because what was there before is not known; the user is told.
    warning: text for the user (a save that cannot be finished, replaced files), else None.
    written: every file this save wrote (fileSaved), normalized absolute paths. Only these are
      rewritten or removed afterwards: a node row left unticked (unmodified since read:
      qSlicerSaveDataDialog.cxx 5.8.0:465-466, not written :803) keeps the user's own file, which the
      saved scene references and which is never touched (glue review 4, G4-1).
    """
    finish: tuple = ()
    stray_files: tuple = ()
    stray_folders: tuple = ()
    warning: str | None = None
    kept_private_files: tuple = ()
    written: tuple = ()


@dataclass(frozen=True)
class PrivateListing:
    """What the Private/ folder beside the scene row's target held when Save was pressed.
    folder: normalized path; existed: whether it was there; files: normalized paths of its files."""
    folder: str
    existed: bool = False
    files: frozenset = frozenset()


def hidden_nodes_folder(target: str) -> str:
    """`<folder of the target>/Private`, where Slicer 5.10's saveHiddenNodes writes
    (qSlicerSaveDataDialog.cxx 5.10:930-932), normalized."""
    return _normalized(os.path.join(os.path.dirname(target), HIDDEN_NODES_FOLDER)) if target else ""


def private_listing(target: str) -> PrivateListing:
    """List the Private/ folder beside `target` (a scene_row_target) as it is now; taken when Save
    is pressed, before Slicer writes anything. A folder that cannot be read counts as holding
    everything: PrivateListing(folder, True, None) makes the decision remove nothing."""
    folder = hidden_nodes_folder(target)
    if not folder or not os.path.lexists(folder):
        return PrivateListing(folder)
    try:
        names = os.listdir(folder)
    except OSError:
        log.warning("the Private folder beside the scene could not be listed; nothing in it will be removed")
        return PrivateListing(folder, True, None)
    return PrivateListing(folder, True, frozenset(_normalized(os.path.join(folder, name)) for name in names))


def scene_kind(directory: str, file_name: str, scene_url: str) -> str:
    """"mrml", "mrb" or "folder": which writer qSlicerSceneWriter::write uses for the dialog's
    target (its exact, case-sensitive suffix, qSlicerSceneWriter.cxx main 105-116)."""
    name = file_name or os.path.basename(scene_url or "")
    suffix = name.rpartition(".")[2] if "." in name else ""
    return suffix if suffix in ("mrml", "mrb") else "folder"


def scene_row_target(directory: str, file_name: str, scene_url: str) -> str:
    """The file the dialog writes the scene to, as qSlicerSaveDataDialogPrivate::sceneFile()
    computes it: QFileInfo(QDir(directory), fileName), or the scene's URL if the name is empty."""
    if not file_name:
        return _normalized(scene_url) if scene_url else ""
    return _normalized(os.path.join(directory or os.curdir, file_name))


def _normalized(path: str) -> str:
    return os.path.normcase(os.path.normpath(os.path.abspath(path))) if path else ""


def _is_scene_name(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in SCENE_SUFFIXES


def after_scrubbed_save(accepted: bool, scene_row_checked: bool, scene_row_directory: str,
                        scene_row_file_name: str, scene_url: str, saved_files,
                        private_before: PrivateListing | None) -> SaveDecision:
    """Which files to finish and check (and which strays to clean) after the dialog's save ran.

    accepted: `dialog.result() == QDialog.Accepted` after `accept()` returned.
    scene_row_checked, scene_row_directory, scene_row_file_name: the scene row of the table as
      it was when Save was pressed (before the hook's neutral names were put back).
    scene_url: `scene.GetURL()` after the save.
    saved_files: the "fileName" of every fileSaved emitted during this save, in order.
    private_before: `private_listing(target)` taken when Save was pressed (None: unknown, then no
      file is removed).

    Only the row's target is finished: the scene writer's fileSaved names exactly that path (a
    folder for "Slicer Data Bundle (*)"). Other scenes named by fileSaved during the save were
    written by other code while one of save()'s modal loops ran ("replace?",
    qSlicerSaveDataDialog.cxx main 667/767, 5.10 668/777; the data-bundle folder's ctkMessageBox,
    qSlicerSceneWriter.cxx main 223-238): they are left alone and logged (N4).
    The target named by fileSaved was written by this save, so it is finished even if another file
    failed (its screenshot is not yet blanked). Without any fileSaved for it (the signal
    could not be connected), the scene's URL is used only if the dialog was accepted and the
    URL is the scene row's target; otherwise nothing is touched and the user is warned.
    """
    saved = [_normalized(path) for path in saved_files if path]
    target = scene_row_target(scene_row_directory, scene_row_file_name, scene_url)
    # the scene writer's fileSaved names the row's target (a folder for "Slicer Data Bundle (*)")
    scenes = [target] if target and target in saved else []
    others = [path for path in saved if path != target and _is_scene_name(path)]
    if others:
        log.warning("%d scene file(s) saved by other code during the dialog's save were left as they are", len(others))
    warning = None
    if not scenes and accepted and scene_row_checked:
        if scene_url and target and _normalized(scene_url) == target:
            scenes = [target]
        else:
            warning = ("The scene was saved, but the file written could not be identified, so it was not "
                       "finished or checked. Check it with Scene Scrubber > Check a saved scene before sharing it.")
    stray_files, stray_folders, replaced, unknown = _hidden_node_copies(
        saved, target, scene_kind(scene_row_directory, scene_row_file_name, scene_url), private_before)
    folder = hidden_nodes_folder(target)
    notes = [warning] if warning else []
    if replaced:
        notes.append(f"Slicer replaced {len(replaced)} file(s) that were already in {folder} with hidden nodes of "
                     f"this save: {_names(replaced)}. They were left there: another scene in that folder may use "
                     "them, and it now gets this save's data.")
    if unknown:
        notes.append(f"Slicer wrote copies of hidden nodes into {folder}: {_names(unknown)}. They were not removed "
                     "because what was in that folder before the save is not known; delete them before sharing "
                     "the folder if no other scene uses them.")
    return SaveDecision(tuple(scenes), tuple(stray_files), tuple(stray_folders), "\n\n".join(notes) or None,
                        tuple(replaced + unknown), tuple(saved) if scenes else ())


def _names(paths) -> str:
    return ", ".join(os.path.basename(path) for path in paths)

def _hidden_node_copies(saved: list, target: str, kind: str, before: PrivateListing | None) -> tuple:
    """(strays to remove, folders to remove when empty, replaced files, files of unknown origin)
    among the fileSaved paths in the Private/ folder beside the target. Beside a .mrml, Private/
    is referenced by the scene (checked with it), so nothing there is a stray; replaced files are
    reported in every case. Without a listing of that folder from before the save, nothing is
    removed (N2)."""
    folder = hidden_nodes_folder(target)
    written = []
    for path in saved:
        if folder and os.path.dirname(path) == folder and path not in written:
            written.append(path)
    if not written:
        return [], [], [], []
    if before is None or before.folder != folder or before.files is None:
        return [], [], [], ([] if kind == "mrml" else written)
    replaced = [path for path in written if path in before.files]
    if kind == "mrml":
        return [], [], replaced, []
    new = [path for path in written if path not in before.files]
    return new, ([folder] if new and not before.existed else []), replaced, []


def check_after_unscrubbed_save(option_on: bool, testing: bool, from_dialog: bool, path: str,
                                scene_target: str = "") -> bool:
    """Whether a scene saved without scrubbing is checked afterwards (the "every save" option).

    Only saves made through the Save dialog (its PHI box unticked) are checked; scripted saves
    (slicer.util.saveScene), saves under --testing and non-scene files are not, so that scripts and
    ctest never get a popup and a large bundle is not read twice inside Slicer's save.
    scene_target: the dialog's scene row target (scene_row_target); only a saved file equal to it
    is the dialog's scene, whatever its suffix (a scene saved by other code while the dialog's
    "replace?" prompt was open is not the dialog's, N4)."""
    if not (option_on and not testing and from_dialog and path and scene_target):
        return False
    return _normalized(path) == _normalized(scene_target)


@dataclass
class SaveOutcome:
    """What carrying out a SaveDecision gave: per finished scene (path, findings, error text or
    None), the stray files that could not be removed, and the finished scenes removed because their
    check found identifying values (failed_outputs.remove_failed_save)."""
    scenes: list = field(default_factory=list)
    not_removed: list = field(default_factory=list)
    removed_scenes: list = field(default_factory=list)


def carry_out(decision: SaveDecision, identifying_values, policy: ScrubPolicy | None = None,
              identifier_values=()) -> SaveOutcome:
    """Finish and check each scene of the decision (after_save.finish_saved_scene: `identifier_values`
    are the IDs among the values); remove a scene whose check found identifying values, as the
    offline scrub removes its failed output (failed_outputs.remove_failed_save: what a later check,
    knowing fewer values, could call clean is never left); remove its stray files (and their folder once
    empty, if this save created it; files that were there before the save are left alone). Never raises for one file: the error
    is reported in the outcome and the rest goes on."""
    outcome = SaveOutcome()
    for path in decision.finish:
        try:
            findings, _blanked = finish_saved_scene(path, identifying_values, policy, identifier_values,
                                                    written=decision.written)
            outcome.scenes.append((path, findings, None))
        except Exception as error:   # reported to the user; the other files are still handled
            log.error("could not finish a saved scene (%s)", type(error).__name__)
            outcome.scenes.append((path, [], _text(error)))
            continue
        if findings:
            try:
                remove_failed_save(path, findings, written=decision.written)
                outcome.removed_scenes.append(path)
            except OSError as error:   # the user is told it was not removed (outcome_message)
                log.error("a saved scene that failed its check could not be removed (%s)", type(error).__name__)
    for path in decision.stray_files:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        except OSError:
            outcome.not_removed.append(path)
    for folder in decision.stray_folders:
        try:
            os.rmdir(folder)   # only if empty: anything else in it is the user's
        except OSError:
            pass
    return outcome


@dataclass
class ScrubbedSaveRun:
    """What running a scrubbed save gave. saved: save()'s result (None if it did not run or raised);
    errors: (step, error text) for each step that raised, in order ("apply", "save", then the
    put-back steps by name)."""
    saved: object = None
    errors: list = field(default_factory=list)

    def failed(self, step: str) -> bool:
        """Whether the step of this name ("apply", "save" or a put-back step's name) raised."""
        return any(name == step for name, _text in self.errors)

    def put_back_errors(self) -> list:
        """[(step, error text)] of the put-back steps that raised, in order."""
        return [(name, text) for name, text in self.errors if name not in ("apply", "save")]


def run_scrubbed_save(apply, save, put_back) -> ScrubbedSaveRun:
    """apply() (scrub the live scene, fill the table), then save() only if apply() succeeded, then
    every (name, step) of put_back whatever happened before, each one even if an earlier one raised.

    Never raises (N7): an exception in a PythonQt slot is printed and dropped, so the Save dialog
    hook would skip finishing and checking the written files without a word. The caller finishes
    the save from the fileSaved names it gathered (a failed save() may have written some) and tells
    the user about every error in the run."""
    run = ScrubbedSaveRun()
    try:
        apply()
    except Exception as error:   # nothing is saved; the partial changes are put back below
        log.error("could not scrub the scene for saving (%s)", type(error).__name__)
        run.errors.append(("apply", _text(error)))
    else:
        try:
            run.saved = save()
        except Exception as error:
            log.error("the scrubbed save failed (%s)", type(error).__name__)
            run.errors.append(("save", _text(error)))
    for name, step in put_back:
        try:
            step()
        except Exception as error:
            log.error("could not put back the %s after a scrubbed save (%s)", name, type(error).__name__)
            run.errors.append((name, _text(error)))
    return run


def _text(error: Exception) -> str:
    """What the user is told of an error: its type only. Its text may quote a path named after the
    patient, and Slicer logs the text of every popup (util.py 5.8.0:3057); library code never logs
    identifying values."""
    return type(error).__name__
