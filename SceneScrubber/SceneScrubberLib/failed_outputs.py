"""What becomes of an output that the scrub's own check finds identifying values in: it is removed.

A check of a scrubbed output without --term knows only the values the output's scene still
holds, and the scrub took those out of it; a file it could not clean (a format it cannot rewrite)
then passes a plain `check` of the output (review 14d, W2). So an output that failed its own
check is never left where a later check would call it clean: the output the scrub created (an
.mrb, a folder) is removed; for a .mrml written beside its data, the scene file and every file
the check named are removed (the others are the scrub's clean copies). The scrub created all of
these (an existing output is never replaced), so nothing of the user's is removed.

A scene saved through the Save dialog with its PHI box ticked is finished and checked the same way
(after_save); one that fails that check is removed too (`remove_failed_save`, called by
save_decisions.carry_out), as the offline scrub's output is: the scene file (an .mrb, a .mrml, the
.mrml files of a bundle folder) and the written files the check named. A bundle folder itself is
not removed: the dialog can write one into a folder that holds other files of the user's.
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger(__name__)


def remove_failed_output(output: Path, findings: list) -> None:
    """Remove a scrub's output that its own check found identifying values in (see the module's
    text). `findings`: scene_check.Finding of that check (their `file` relative to the output, or
    to a .mrml output's folder). OSError if a file cannot be removed."""
    output = Path(output)
    if output.is_dir() and not output.is_symlink():
        shutil.rmtree(output)
    elif output.suffix.lower() == ".mrml":
        folder = output.parent.resolve()
        for finding in findings:
            path = (folder / finding.file.rstrip("/")).resolve()
            # only files inside the output's folder, never a link, never the folder itself
            if folder in path.parents and os.path.isfile(path) and not os.path.islink(path):
                path.unlink()
        output.unlink(missing_ok=True)
    elif os.path.lexists(output):
        output.unlink()
    log.info("an output that failed its check was removed")


def _normalized(path) -> str:
    return os.path.normcase(os.path.normpath(os.path.abspath(path)))


def remove_failed_save(path: Path, findings: list, written=None) -> list:
    """Remove a scene the Save dialog wrote scrubbed that its check (after_save.finish_saved_scene)
    found identifying values in; [removed paths]. `path`: the dialog's target (an .mrb, a .mrml, or a
    data-bundle folder); `findings`: scene_check.Finding of that check, `file` relative to the .mrml's
    folder or to the bundle folder. Removed: an .mrb; a .mrml and each named file inside its folder; a
    bundle folder's .mrml files and each named file inside it (never the folder, never a link, never
    a file outside). `written` (normalized absolute paths of the files this save wrote): a named file
    not among them is the user's own, referenced by the scene, and stays. OSError if a file cannot
    be removed."""
    path = Path(path)
    removed = []
    if path.is_dir() and not path.is_symlink():
        folder, scenes = path.resolve(), sorted(path.glob("*.mrml"))
    elif path.suffix.lower() == ".mrml":
        folder, scenes = path.parent.resolve(), [path]
    else:
        folder, scenes = None, [path]
    if folder is not None:
        for finding in findings:
            named = (folder / finding.file.rstrip("/")).resolve()
            beside_mrml = not path.is_dir()
            if written is not None and beside_mrml and _normalized(folder / finding.file.rstrip("/")) not in written:
                continue   # not written by this save: the user's file
            if folder in named.parents and os.path.isfile(named) and not os.path.islink(named):
                named.unlink()
                removed.append(str(named))
    for scene in scenes:
        if os.path.lexists(scene) and not os.path.isdir(scene):
            os.unlink(scene)
            removed.append(str(scene))
    log.info("a saved scene that failed its check was removed (%d files)", len(removed))
    return removed
