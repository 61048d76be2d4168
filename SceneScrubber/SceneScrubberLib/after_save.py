"""After a scrubbed save: what the writer put in that scrubbing the scene could not reach, then the check.

Slicer's scene writer adds a screenshot of the views to every saved scene (the Save dialog
grabs the layout), and the views can show a patient's name in their corner annotations.
So once the scene is written: an .mrb is scrubbed again in place with the live scene's
identifying values (which blanks its screenshot and takes those values out of what the
live scrub does not reach: segment names, markups labels, tables, text, file names), a .mrml's or a scene
folder's '<scene>.png' is blanked, and then every written file is checked for the values
the live scene held.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .bundles import scrub_scene
from .identity_matcher import matcher_for
from .policy import ScrubPolicy
from .scene_check import check_scene
from .screenshots import blanked
from .temporary_outputs import fresh_file

SCENE_SUFFIXES = (".mrml", ".mrb")


def is_saved_scene(path) -> bool:
    path = Path(path)
    return path.suffix.lower() in SCENE_SUFFIXES or (path.is_dir() and any(path.glob("*.mrml")))


def finish_saved_scene(path, identifying_values, policy: ScrubPolicy | None = None, identifier_values=()) -> tuple:
    """(findings of the check, screenshots blanked) for a scene Slicer has just written scrubbed.
    `identifier_values`: the IDs among the live scene's values (its ScrubReport's), matched from 3
    characters as the offline scrubber matches them (mrml_scrubber.report_matchers)."""
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
        scenes = [path] if path.is_file() else sorted(path.glob("*.mrml"))
        for scene in scenes:
            screenshot = scene.with_suffix(".png")
            if screenshot.is_file():
                _replace(screenshot, blanked(screenshot.read_bytes()))
                blanked_files.append(screenshot.name)
    return check_scene(path, matcher_for(identifying_values, identifier_values), policy=policy), blanked_files


def _replace(path: Path, data: bytes) -> None:
    temporary = fresh_file(path.parent)   # never a file of the user's (temporary_outputs)
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
