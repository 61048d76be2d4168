"""After a scrubbed save: what the writer put in that scrubbing the scene could not reach, then the check.

Slicer's scene writer adds a screenshot of the views to every saved scene (the Save dialog
grabs the layout), and the views can show a patient's name in their corner annotations.
So once the scene is written, an .mrb, a .mrml with its files or a scene folder alike is
scrubbed again in place by the offline scrubber with the live scene's identifying values (which
blanks its screenshots, scene views' included, renames the node copies inside scene views and
takes those values out of what the live scrub does not reach: segment names, markups labels,
tables, text, file names), and then every written file is checked for the values the live scene
held. A .mrml whose files the offline scrubber refuses (data saved outside its folder) has its
'<scene>.png' blanked and is checked as written.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from .bundles import scrub_scene
from .detached_headers import data_files, is_detached_header
from .identity_matcher import matcher_for
from .mrml_scrubber import SceneError
from .policy import ScrubPolicy
from .scene_sources import open_scene
from .scene_check import check_scene
from .screenshots import blanked
from .temporary_outputs import fresh_file, fresh_folder

SCENE_SUFFIXES = (".mrml", ".mrb")
logger = logging.getLogger(__name__)


def is_saved_scene(path) -> bool:
    """Whether `path` (str or Path) is a scene Slicer wrote: a .mrml or .mrb file (by suffix, any case),
    or a folder holding a .mrml."""
    path = Path(path)
    return path.suffix.lower() in SCENE_SUFFIXES or (path.is_dir() and any(path.glob("*.mrml")))


def finish_saved_scene(path, identifying_values, policy: ScrubPolicy | None = None, identifier_values=(),
                       written=None) -> tuple:
    """(findings of the check, screenshots blanked) for a scene Slicer has just written scrubbed.
    `identifier_values`: the IDs among the live scene's values (its ScrubReport's), matched from 3
    characters as the offline scrubber matches them (mrml_scrubber.report_matchers). `written`: the
    files this save wrote (normalized absolute paths); with it, a .mrml's or scene folder's other
    files (the user's own, referenced by the scene) are never rewritten or removed, only checked."""
    path = Path(path)
    blanked_files = []
    if path.suffix.lower() == ".mrb":
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".mrb", dir=path.parent)
        os.close(descriptor)
        os.unlink(temporary)
        try:
            # the live scene's values: the written scene holds none any more, but segment names,
            # markups labels, tables and file names written from the live nodes can
            result = scrub_scene(path, Path(temporary), policy, values=identifying_values,
                                 terms=identifier_values)
            os.replace(temporary, path)
        finally:
            Path(temporary).unlink(missing_ok=True)
        blanked_files = result.blanked_screenshots
    else:
        try:   # the same offline scrub as for an .mrb: scene view copies, their screenshots, file names
            blanked_files = _scrub_in_place(path, policy, identifying_values, identifier_values, written)
        except SceneError as error:   # e.g. data saved outside the scene's folder: blank, and the check says
            logger.warning("the saved scene could not be scrubbed again in place (%s); checked as written",
                           type(error).__name__)
            blanked_files = _blank_thumbnails(path)
    return check_scene(path, matcher_for(identifying_values, identifier_values), policy=policy), blanked_files


def _scrub_in_place(path: Path, policy, values, terms, written=None) -> list:
    """Scrub a just-saved .mrml (with its files) or scene folder again with bundles.scrub_scene into a
    fresh folder beside it, then put the result in its place: every file the scrub wrote replaces
    the saved one, and the saved files it renamed (they carry a name) are removed. Only files of the
    scene are touched (scene_sources reads no others), and with `written` only those this save wrote
    and the scene file: a file the scene references but the save did not write is the user's (left as
    it is; the check reads it). The screenshots blanked."""
    folder = path if path.is_dir() else path.parent

    # the scene file and its thumbnail (<scene>.png, written by the scene writer with it) are this save's,
    # and so are the data files of a detached header it wrote (fileSaved names the .nhdr, not its .raw.gz)
    own = {_normalized(path), _normalized(path.with_suffix(".png"))} if not path.is_dir() else set()
    for saved in written or ():
        own |= _header_data_files(saved)

    def ours(target: Path) -> bool:
        # a scene folder (5.10's data bundle folder) is treated as written whole by its save, as an .mrb
        # (not narrowed to fileSaved: what 5.10 writes into it for an unticked row is not yet checked)
        return written is None or path.is_dir() or _normalized(target) in own or _normalized(target) in written
    with open_scene(path) as scene:
        read = [name for name in scene.names if not os.path.isabs(name)]
    work = fresh_folder(folder.parent if path.is_dir() else folder)
    try:
        output = work / ("scene" if path.is_dir() else path.name)
        result = scrub_scene(path, output, policy, values=values, terms=terms)
        root = output if path.is_dir() else work
        scrubbed = {file.relative_to(root).as_posix() for file in root.rglob("*") if file.is_file()}
        for relative in sorted(scrubbed, key=lambda name: name.lower().endswith(".mrml")):   # scenes last
            if not ours(folder / relative) and (folder / relative).exists():
                continue   # the user's file: never replaced
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            os.replace(root / relative, folder / relative)
        for name in read:
            old = folder / name
            if name not in scrubbed and ours(old) and old.is_file() and not old.is_symlink():
                old.unlink()
                _remove_empty_parents(old.parent, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)   # created above: only what this run made
    return result.blanked_screenshots


def _header_data_files(header: str) -> set:
    """The normalized paths of the data files the detached header `header` (.nhdr, .mhd) names; empty
    for any other file, or one that cannot be read."""
    if not is_detached_header(header):
        return set()
    try:
        with open(header, "rb") as stream:
            files = data_files(stream.read(1 << 20), header)
    except (OSError, ValueError):
        return set()
    return {_normalized(os.path.join(os.path.dirname(header), name)) for name in (files.files if files else ())}


def _normalized(path) -> str:
    return os.path.normcase(os.path.normpath(os.path.abspath(path)))


def _remove_empty_parents(folder: Path, top: Path) -> None:
    while folder != top and top in folder.parents:
        try:
            folder.rmdir()   # only when empty
        except OSError:
            return
        folder = folder.parent


def _blank_thumbnails(path: Path) -> list:
    blanked_files = []
    scenes = [path] if path.is_file() else sorted(path.glob("*.mrml"))
    for scene in scenes:
            screenshot = scene.with_suffix(".png")
            if screenshot.is_file():
                _replace(screenshot, blanked(screenshot.read_bytes()))
                blanked_files.append(screenshot.name)
    return blanked_files


def _replace(path: Path, data: bytes) -> None:
    temporary = fresh_file(path.parent)   # never a file of the user's (temporary_outputs)
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
