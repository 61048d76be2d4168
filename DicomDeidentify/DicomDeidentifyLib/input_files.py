"""Which files of the inputs a run reads: regular files only, and a reason for everything else.

Folders are walked without following links to folders. A link is followed only to a regular
file, and only if that file lies inside one of the inputs or the link itself was named as an
input: a link to /dev/zero or to a file elsewhere on the machine is not read. FIFOs, devices
and sockets are skipped unopened (opening a FIFO for reading blocks). A folder that cannot be
listed, or an entry that cannot be examined, is a failure with a reason: nothing is left out
without a word.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterable, Iterator, Union

from .bounded_read import kind_of
from .dicom_io import PARTIAL_SUFFIX
from .results import FAILED, SKIPPED, FileResult

Entry = Union[Path, FileResult]   # a file to read, or the outcome of one that is not read


def walk_inputs(inputs: Iterable, exclude: Iterable = ()) -> Iterator[Entry]:
    """Every entry under the inputs, in a stable order, outside the excluded folders: a Path for
    each regular file to read, a FileResult (skipped or failed, with its reason) for the rest.
    Raises FileNotFoundError for an input that does not exist (a usage error)."""
    inputs = [Path(i) for i in inputs]
    excluded = [Path(e).resolve() for e in exclude]
    roots = [Path(os.path.realpath(i)) for i in inputs]
    for item in inputs:
        try:
            info = os.stat(item)   # an input named explicitly: a link is followed
        except FileNotFoundError:
            raise FileNotFoundError(f"{item}: no such file or folder") from None
        except OSError as error:
            yield FileResult(str(item), status=FAILED, reason=f"cannot be read: {error.strerror or error}")
            continue
        if stat.S_ISREG(info.st_mode):
            yield item
        elif stat.S_ISDIR(info.st_mode):
            yield from _walk_folder(item, roots, excluded)
        else:
            yield FileResult(str(item), status=SKIPPED, reason=f"not a regular file ({kind_of(info.st_mode)}): not read")


def iter_input_files(inputs: Iterable, exclude: Iterable = ()) -> Iterator[Path]:
    """The regular files of walk_inputs alone (what is not read is left out)."""
    return (entry for entry in walk_inputs(inputs, exclude) if isinstance(entry, Path))


def _walk_folder(top: Path, roots: list, excluded: list) -> Iterator[Entry]:
    problems: list = []

    def unreadable(error: OSError) -> None:   # os.walk skips a folder it cannot list: say so
        problems.append(FileResult(str(error.filename or top), status=FAILED,
                                   reason=f"folder cannot be read: {error.strerror or error}"))

    for folder, dirs, files in os.walk(top, onerror=unreadable):
        yield from problems
        problems.clear()
        here = Path(folder)
        kept = []
        for name in sorted(dirs):
            path = here / name
            if os.path.islink(path):
                yield FileResult(str(path), status=SKIPPED, reason="a link to a folder: not followed")
            elif not any(_within(path, e) for e in excluded):
                kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            if name.endswith(PARTIAL_SUFFIX):
                continue
            entry = _examine(here / name, roots)
            if entry is not None:
                yield entry
    yield from problems


def _examine(path: Path, roots: list) -> Entry | None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None   # gone since the folder was listed
    except OSError as error:
        return FileResult(str(path), status=FAILED, reason=f"cannot be read: {error.strerror or error}")
    if stat.S_ISREG(info.st_mode):
        return path
    if not stat.S_ISLNK(info.st_mode):
        return FileResult(str(path), status=SKIPPED, reason=f"not a regular file ({kind_of(info.st_mode)}): not read")
    target = Path(os.path.realpath(path))
    try:
        target_mode = os.stat(target).st_mode
    except OSError:
        return FileResult(str(path), status=SKIPPED, reason="a broken link: not read")
    if not stat.S_ISREG(target_mode):
        return FileResult(str(path), status=SKIPPED,
                          reason=f"a link to {kind_of(target_mode)}: not read")
    if not any(_within(target, root) for root in roots):
        return FileResult(str(path), status=SKIPPED, reason="a link to a file outside the inputs: not followed")
    return path


def _within(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(folder)
        return True
    except ValueError:
        return False
