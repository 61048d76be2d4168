"""Where a page that shows original values (the run report, the compare page) may not be written.

Such a page names input paths and shows identifying values and pictures: it belongs with the key
holders' secrets, never in a destination, which is what people share: a folder above the page
marked as a destination (destinations.is_destination: an --output folder or a side database, made
with any key; only the page's own ancestors are looked at, never a folder's contents), the output
folder of any run this key recorded (the linkage store's runs: also one made before the marker
existed), or a folder the caller names (compare's de-identified folder).
"""
from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

from .destinations import is_destination


def destination_around(page: Path, destinations=()) -> Path | None:
    """The destination folder that would hold `page` (a file or folder path, existing or not): a folder
    above it (or `page` itself) that is marked as a destination (an --output folder or side database
    of any key), that holds this tool's outputs in their layout (holds_outputs: a destination made
    before the marker existed, another key's, a copy), or that is one of `destinations` (folders);
    None if none. Only `page` and its ancestors (and, for outputs, a bounded look three levels under
    each) are looked at, up to the file system's root. The one check of every place where a secret
    is written: key, linkage store, reports, pixel cache, mappings, pages (refuse_inside_destination)."""
    page = Path(os.path.realpath(page))
    folders = [Path(os.path.realpath(d)) for d in destinations if d]
    for folder in (page, *page.parents):
        if folder in folders or is_destination(folder) or holds_outputs(folder):
            return folder
    return None


# pipeline.output_path: <destination>/<patient>/<study>/<series>/<SOP Instance UID>.<10 hex digits>.dcm
OUTPUT_NAME = re.compile(r"^[0-9A-Za-z._-]+\.[0-9a-f]{10}\.dcm$")
LAYOUT_DEPTH = 3   # patient, study, series
SEARCHED = 2000    # entries looked at under a folder, at most


def holds_outputs(folder: Path) -> bool:
    """Whether `folder` holds, exactly LAYOUT_DEPTH folders down (patient/study/series), a file named as
    pipeline.output_path names outputs: the top of a destination whatever marked it or not. At most
    SEARCHED entries are looked at (a folder near the root is not walked through)."""
    budget = [SEARCHED]

    def found(path: str, depth: int) -> bool:
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    budget[0] -= 1
                    if budget[0] < 0:
                        return False
                    try:
                        if depth == LAYOUT_DEPTH:
                            if OUTPUT_NAME.match(entry.name) and entry.is_file(follow_symlinks=False):
                                return True
                        elif entry.is_dir(follow_symlinks=False) and found(entry.path, depth + 1):
                            return True
                    except OSError:
                        continue
        except OSError:
            return False
        return False

    return os.path.isdir(folder) and found(os.fspath(folder), 0)


def destination_of_outputs(path: Path) -> Path | None:
    """The destination folder that holds `path` when it is an output of this tool or a folder holding
    some (found by the output layout of pipeline.output_path, so also for destinations no linkage store
    recorded: another key's, a copy); None when no output is found there."""
    path = Path(os.path.realpath(path))
    if path.is_file():
        found = path if OUTPUT_NAME.match(path.name) else None
    elif path.is_dir():
        found = next((p for p in itertools.islice(path.rglob("*.dcm"), SEARCHED) if OUTPUT_NAME.match(p.name)), None)
    else:
        found = None
    if found is None or len(found.parents) <= LAYOUT_DEPTH:
        return None
    return found.parents[LAYOUT_DEPTH]


SHOWS_ORIGINALS = "it shows original values; write it outside (e.g. beside the key)"


def refuse_inside_destination(page: Path, what: str, destinations=(), why: str = SHOWS_ORIGINALS) -> None:
    """ValueError (one line: what is wrong and what to do) if `page` lies inside a destination
    (destination_around, which also finds one by its marker or its outputs, of any key). `why` says what
    the thing holds and where it goes instead (never to change a folder's permissions: a destination
    is shared whatever its mode, and its copies are too)."""
    folder = destination_around(page, destinations)
    if folder is not None:
        raise ValueError(f"{what} {page} would be inside the destination folder {folder}, which is shared: {why}")


def refuse_inside_inputs(page: Path, what: str, inputs=()) -> None:
    """ValueError (one line) if `page` (a file or folder, existing or not) is one of `inputs` (files or
    folders) or lies inside one: inputs are only read, never written into (a page there would also be
    taken for an input by the next run). Links are resolved on both sides."""
    page = Path(os.path.realpath(page))
    for source in inputs:
        if not source:
            continue
        source = Path(os.path.realpath(source))
        folder = source if source.is_dir() else source.parent
        if page == source or page == folder or folder in page.parents:
            raise ValueError(f"{what} {page} would be inside the input folder {folder}: inputs are only read, "
                             "never written into; name a place apart from the inputs (e.g. beside the key)")


def recorded_inputs(key_file) -> list:
    """The input paths the runs recorded by the linkage store beside `key_file` were given that still exist
    ([] when there is no store, or linkage was off): a removed input says nothing of its parent folder."""
    from .linkage import LinkageStore, linkage_path
    path = linkage_path(Path(key_file))
    if not path.exists():
        return []
    store = LinkageStore(path)
    try:
        return [path for path in store.inputs() if os.path.exists(path)]
    finally:
        store.close()


def refuse_holding_destination(folder: Path, what: str, destinations=()) -> None:
    """ValueError (one line) if `folder` (where pages go) is one of `destinations` or holds one at any
    depth: a parent of a destination is where a person shares from (copies or zips it), and the pages
    would go along. Only the named destinations are compared (no folder's contents are listed)."""
    folder = Path(os.path.realpath(folder))
    for destination in destinations:
        if not destination:
            continue
        destination = Path(os.path.realpath(destination))
        if destination == folder or folder in destination.parents:
            raise ValueError(f"{what} {folder} {'is' if destination == folder else 'holds'} the destination folder "
                             f"{destination}, which is shared: whoever gets a copy of it gets the report (original "
                             "values); name a folder apart from the destination (the default is beside the key)")


def recorded_destinations(key_file) -> list:
    """The destination folders of the runs that the linkage store beside `key_file` recorded ([] when
    there is no store)."""
    from .linkage import LinkageStore, linkage_path
    path = linkage_path(Path(key_file))
    if not path.exists():
        return []
    store = LinkageStore(path)
    try:
        return store.destinations()
    finally:
        store.close()
