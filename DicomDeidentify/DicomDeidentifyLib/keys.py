"""The pseudonym key: created once, kept owner-only, never guessed again.

Every pseudonym, UID and date offset derives from this key, so losing or
replacing it breaks consistency with earlier runs: a missing key is an error,
except when asked for (--create-key) or on true first use of its location (the
key's folder does not exist yet, or holds only saved review decisions), when a
new key is created and announced: may_create_key, the one rule every caller
(command line, Slicer panel, import, Python API) goes through.
"""
from __future__ import annotations

import os
import secrets
import stat
import time
from pathlib import Path

KEY_BYTES = 32
KEY_FILE_NAME = "pseudonym.key"
REVIEW_STORE_FILE_NAME = "review_decisions.json"   # review_store's file beside the key; may precede the key
KEY_WRITE_WAIT_SECONDS = 5   # an empty key file may be one another process is writing
ENV_HOME = "SLICER_DEIDENTIFY_HOME"


class KeyFileError(Exception):
    """The key can't be used; the message says what to do."""


USE_THE_KEY = "use the key file of the earlier runs, or restore it from its backup"   # what the messages say to do


def secrets_home() -> Path:
    """Where key, linkage and reports live by default: apart from any output."""
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".slicer-deidentify")


def default_key_file() -> Path:
    """The key file used when none is given: pseudonym.key in secrets_home() ($SLICER_DEIDENTIFY_HOME,
    else ~/.slicer-deidentify). Only the path; nothing is created or read."""
    return secrets_home() / KEY_FILE_NAME


class UnsafeFolderError(ValueError):
    """An existing folder named for secrets is not safe for them; the message says why and what to do."""


def make_private_dir(folder: Path, key_material: bool = False) -> Path:
    """A folder for secrets (key, linkage, reports, mappings). What is missing of it is created
    owner-only (0700). An existing folder is used as it is, its mode never changed (it may be a
    folder others share): refused with UnsafeFolderError if others could write to it, or, for
    key material, read or list it, or if another user owns it."""
    folder = Path(folder)
    missing, path = [], folder
    while not os.path.lexists(path) and path != path.parent:
        missing.append(path)
        path = path.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue   # made at the same moment by another run: checked below like any existing folder
        os.chmod(path, 0o700)   # ours: exactly owner-only, whatever the umask
    check_private_dir(folder, key_material)
    return folder


def check_private_dir(folder: Path, key_material: bool = False) -> None:
    """Raise UnsafeFolderError unless `folder` is a folder of this user that others cannot write
    to (nor, for key material, read or enter)."""
    try:
        info = os.stat(folder)
    except OSError as error:
        raise UnsafeFolderError(f"{folder}: cannot be used for secrets: {error.strerror or error}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeFolderError(f"{folder} is not a folder")
    mode = stat.S_IMODE(info.st_mode)
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise UnsafeFolderError(f"{folder} belongs to another user: secrets need a folder of your own")
    if mode & 0o022:
        raise UnsafeFolderError(f"{folder} can be written by others (mode {mode:04o}): secrets need a folder "
                                "only you can write to (e.g. a new one; the tool creates it owner-only)")
    if key_material and mode & 0o077:
        raise UnsafeFolderError(f"{folder} can be read by others (mode {mode:04o}): the key needs a folder "
                                "only you can open (name a new folder: the tool makes it owner-only)")


def create_key(path: Path) -> bytes:
    """A new random key written to `path`, atomically: see write_key. Raises FileExistsError if
    another process created the key first (load_or_create_key then reads that one)."""
    path = Path(path)
    make_private_dir(path.parent, key_material=True)
    key = secrets.token_bytes(KEY_BYTES)
    if not write_key(path, key):
        raise FileExistsError(f"{path} was created by another process")
    return key


def write_key(path: Path, key: bytes) -> bool:
    """Write `key` to `path` so that no one ever reads part of it: a temporary file beside it,
    created exclusively (0600), written, fsync-ed, then published under its name with link(),
    which, unlike rename(), never replaces an existing key: of two processes creating the key
    at once, exactly one wins and the other reads the winner's key. False if `path` existed."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(key.hex() + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        except OSError:   # a file system without hard links: exclusive create in place; readers wait
            try:
                handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return False
            with os.fdopen(handle, "w") as stream:
                stream.write(key.hex() + "\n")
                stream.flush()
                os.fsync(stream.fileno())
        _fsync_folder(path.parent)   # the new name survives a crash too
        return True
    finally:
        temporary.unlink(missing_ok=True)


def _fsync_folder(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return   # not possible on this system (Windows): the file itself was synced
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def load_key(path: Path) -> bytes:
    """The key bytes (at least 16; 32 as write_key makes them) from `path`, a file of one line of hex digits.

    Waits up to KEY_WRITE_WAIT_SECONDS (5 s) while the file is empty (another process writing it).
    Raises KeyFileError, its message naming the file and what to do, when the file is missing,
    unreadable, not hex, shorter than 16 bytes, or readable by group or others (its mode is never changed)."""
    path = Path(path)
    try:
        text = path.read_text().strip()
        deadline = time.monotonic() + KEY_WRITE_WAIT_SECONDS
        while not text and time.monotonic() < deadline:   # being written in place (see write_key)
            time.sleep(0.05)
            text = path.read_text().strip()
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist; pass --create-key to make a new one "
                        "(pseudonyms will then differ from any earlier run)") from None
    except OSError as error:
        raise KeyFileError(f"key file {path} cannot be read ({error.strerror}): {USE_THE_KEY}") from None
    except UnicodeDecodeError:
        raise KeyFileError(f"key file {path} is not a key (a line of hex digits): {USE_THE_KEY}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise KeyFileError(f"key file {path} is not a key (a line of hex digits): {USE_THE_KEY}") from None
    if len(key) < 16:
        raise KeyFileError(f"key file {path} holds {len(key)} bytes, at least 16 are needed: {USE_THE_KEY}")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:   # refused, not tightened: the tool changes the mode only of what it creates
        raise KeyFileError(f"key file {path} can be read by others (mode {mode:04o}): chmod 600 it, and consider "
                           "the key exposed if others could read it")
    return key


def key_location_unused(key_file) -> bool:
    """Whether a key location has never been used: its folder does not exist, or holds saved review
    decisions and nothing else (saving decisions before the first run must not turn "first use, create
    the key" into "the key is missing"). An existing empty folder is not a first use: someone made it
    (or emptied it), and the command line has always refused a missing key there."""
    folder = Path(key_file).parent
    if not folder.exists():
        return True
    entries = [entry.name for entry in folder.iterdir()]
    return not Path(key_file).exists() and entries == [REVIEW_STORE_FILE_NAME]


def may_create_key(path, create: bool = False) -> bool:
    """Whether a missing key at `path` may be created: the one key-creation rule.

    True when asked (`create`: the command line's --create-key, create_key=True of runs.deidentify_folder
    or import_controller.ImportController), or on first use of the location (key_location_unused: the
    key's folder does not exist yet, or holds saved review decisions and nothing else). Otherwise a missing
    key is an error: a new key would silently give other pseudonyms, UIDs and date shifts than the
    earlier runs' (the key's folder holds their linkage store, reports or held files). The caller
    announces a key it created (RunResult.key_created). Nothing else decides it: the Slicer panel
    and the import pass no rule of their own."""
    return bool(create) or key_location_unused(path)


def load_or_create_key(path: Path | None = None, create: bool = False) -> tuple[bytes, bool]:
    """(key, created): the key at `path` (default_key_file() when None), created when it is missing
    and may_create_key(path, create) allows it. Raises KeyFileError for a missing key that may not be
    created, or one that cannot be used (load_key)."""
    path = Path(path) if path else default_key_file()
    if path.exists():
        return load_key(path), False
    if may_create_key(path, create):
        try:
            return create_key(path), True
        except FileExistsError:   # another run created it a moment ago: use that key, finished
            return load_key(path), False
    return load_key(path), False   # raises the clear "does not exist" error
