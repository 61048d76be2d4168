"""The marker file at the top of a destination (an --output folder or a side database): what it says,
and the fingerprint of the key whose runs write there.

One destination holds the outputs of one key: pseudonyms, UIDs and date shifts of two keys mixed in one
folder cannot be told apart or linked again. So the marker records the key's fingerprint, an
HMAC-SHA256 of a fixed label under the key (keyed_hash.KeyedHasher, purpose FINGERPRINT_PURPOSE): the
same for every run of that key, different for any other key, and without the key neither computable nor
of any help in finding it (HMAC is a pseudorandom function of the key). It is never the key.
A marker written before fingerprints existed gets the fingerprint of the first key that writes there.
No pydicom here: side_database.py (imported at Slicer's start) writes its marker through this module.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from .keyed_hash import KeyedHasher

FINGERPRINT_PURPOSE = "destination key fingerprint"   # a purpose no pseudonym, UID or date shift uses
FINGERPRINT_LABEL = "SlicerDeidentify destination marker, version 1"
FINGERPRINT_FIELD = "key_fingerprint"
MARKER_FIELDS = {"created_by": "SlicerDeidentify", "layout": "patient/study/series/instance",
                 "contents": "de-identified DICOM files only"}


def key_fingerprint(key: bytes) -> str:
    """The fingerprint of the pseudonym key `key` (bytes) as the marker records it: "hmac-sha256:" and
    64 hex digits. ValueError for a key keyed_hash refuses (shorter than 16 bytes)."""
    return "hmac-sha256:" + KeyedHasher(key).digest(FINGERPRINT_PURPOSE, FINGERPRINT_LABEL).hex()


def read_marker(marker: Path) -> dict | None:
    """The fields of the marker file `marker`, or None when it does not exist. ValueError (one line
    naming the file) for a marker that is not this tool's JSON (a hand-edited or damaged file)."""
    marker = Path(marker)
    try:
        fields = json.loads(marker.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):   # no marker (or the folder is a file: said elsewhere)
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"the destination marker {marker} cannot be read ({type(error).__name__}): restore it "
                         "or name another destination") from error
    if not isinstance(fields, dict):
        raise ValueError(f"the destination marker {marker} is not a marker of this tool: restore it or name "
                         "another destination")
    return fields


def recorded_fingerprint(marker: Path) -> str | None:
    """The key fingerprint the marker file `marker` records, or None (no marker, or one written before
    fingerprints were recorded). ValueError as read_marker's."""
    fields = read_marker(marker)
    value = (fields or {}).get(FINGERPRINT_FIELD)
    return value if isinstance(value, str) and value else None


def refuse_another_key(marker: Path, fingerprint: str | None, folder: Path) -> None:
    """ValueError (one line: what is wrong and what to do) when the marker file `marker` of the
    destination `folder` records a key fingerprint other than `fingerprint` (None: no key exists yet,
    so a new one, which cannot match any recorded fingerprint)."""
    recorded = recorded_fingerprint(marker)
    if recorded is not None and recorded != fingerprint:
        raise ValueError(f"the destination {folder} holds files de-identified with another key (its marker "
                         f"{Path(marker).name} records another key's fingerprint): outputs of two keys are "
                         "never mixed; pass the --key-file its runs used, or name a new destination")


def write_marker(marker: Path, fingerprint: str | None = None) -> None:
    """Make the marker file `marker` if it is missing, with `fingerprint` (key_fingerprint) when given;
    add the fingerprint to a marker without one. Atomic: a temporary file beside it, linked to the name
    only if no other run made it first (then that one is checked as an existing marker). ValueError
    (refuse_another_key) when the marker records another key's fingerprint."""
    marker = Path(marker)
    fields = read_marker(marker)
    if fields is not None:
        if fingerprint is None or fields.get(FINGERPRINT_FIELD) == fingerprint:
            return
        refuse_another_key(marker, fingerprint, marker.parent)
        fields = {**fields, FINGERPRINT_FIELD: fingerprint}   # an older marker: the first key to write records itself
    else:
        fields = dict(MARKER_FIELDS, **({FINGERPRINT_FIELD: fingerprint} if fingerprint else {}))
    # named as dicom_io's partial files (.<name>.<pid>.<random>.partial): a killed run's is removed by the next
    temporary = marker.with_name(f".{marker.name.lstrip('.')}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    temporary.write_text(json.dumps(fields, indent=1) + "\n", encoding="utf-8")
    try:
        if marker.exists():   # adding the fingerprint to an older marker
            os.replace(temporary, marker)
            return
        try:
            os.link(temporary, marker)   # fails if another run made the marker meanwhile: never overwritten
        except FileExistsError:
            write_marker(marker, fingerprint)   # check (or complete) the one the other run made
        except OSError:   # a file system without hard links: a rename (the race above is then not closed)
            os.replace(temporary, marker)
    finally:
        try:
            temporary.unlink()
        except FileNotFoundError:
            pass
