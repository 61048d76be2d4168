"""The pseudonym key: created once, kept owner-only, never guessed again.

Every pseudonym, UID and date offset derives from this key, so losing or
replacing it breaks consistency with earlier runs: a missing key is an error,
except on true first use (the secrets folder does not exist yet), when a new
key is created and announced.
"""
from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

KEY_BYTES = 32
KEY_FILE_NAME = "pseudonym.key"
ENV_HOME = "SLICER_DEIDENTIFY_HOME"


class KeyFileError(Exception):
    """The key can't be used; the message says what to do."""


USE_THE_KEY = "use the key file of the earlier runs, or restore it from its backup"   # what the messages say to do


def secrets_home() -> Path:
    """Where key, linkage and reports live by default: apart from any output."""
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".slicer-deidentify")


def default_key_file() -> Path:
    return secrets_home() / KEY_FILE_NAME


def make_private_dir(folder: Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def create_key(path: Path) -> bytes:
    path = Path(path)
    make_private_dir(path.parent)
    key = secrets.token_bytes(KEY_BYTES)
    # O_EXCL: never overwrite an existing key, even in a race with another run.
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "w") as stream:
        stream.write(key.hex() + "\n")
    return key


def load_key(path: Path) -> bytes:
    path = Path(path)
    try:
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
    if mode & 0o077:
        os.chmod(path, 0o600)   # tighten rather than refuse: the key stays usable and private
    return key


def load_or_create_key(path: Path | None = None, create: bool = False) -> tuple[bytes, bool]:
    """(key, created). Creates only when asked, or on first use of the default location."""
    path = Path(path) if path else default_key_file()
    if path.exists():
        return load_key(path), False
    first_use = path == default_key_file() and not path.parent.exists()
    if create or first_use:
        return create_key(path), True
    return load_key(path), False   # raises the clear "does not exist" error
