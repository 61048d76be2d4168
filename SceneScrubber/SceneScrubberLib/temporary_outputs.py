"""Fresh temporary names beside an output: a write goes to one of these, then is moved into place.

A fixed name ('.<output>.partial') could be a folder or file the user already has (or the input
itself), and removing or overwriting it would destroy it: each name here is new, created
exclusively (mkdir / O_EXCL), so a run only ever removes what it created itself. Modes follow the
umask, as for any file the user writes (tempfile's would be 0600/0700).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

_ATTEMPTS = 100


def _candidate(parent: Path, kind: str) -> Path:
    # neutral: the output's own name can carry the patient's
    return Path(parent) / f".scene-scrubber-{secrets.token_hex(6)}.{kind}.partial"


def fresh_folder(parent) -> Path:
    """A new, empty folder in `parent` (which must exist), created by this call. OSError if none
    can be made (FileExistsError after many attempts)."""
    for _ in range(_ATTEMPTS):
        path = _candidate(parent, "folder")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise FileExistsError("no fresh temporary name")


def fresh_file(parent) -> Path:
    """A new, empty file in `parent` (which must exist), created by this call (O_CREAT | O_EXCL, so
    never an existing file or link). OSError if none can be made."""
    for _ in range(_ATTEMPTS):
        path = _candidate(parent, "file")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return path
        except FileExistsError:
            continue
    raise FileExistsError("no fresh temporary name")
