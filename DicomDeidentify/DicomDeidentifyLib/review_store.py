"""Saved review decisions: beside the key, owner-only; never in Slicer's settings.

A review decision can hold the value it judged ("keep InstitutionName = St. Elsewhere Hospital",
"edit StudyDescription 'CT head J. Doe' to 'CT head'"): identifying text. Slicer's settings
(Slicer.ini) are a plain file outside the key holders' folder (review M16), so the Slicer module
keeps the profile's options there and every saved decision in <key folder>/review_decisions.json,
a file only its owner can read (0600) in a folder only its owner can enter (0700), like the key
and the linkage store.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .keys import REVIEW_STORE_FILE_NAME, make_private_dir
from .keys import key_location_unused  # noqa: F401 (the rule lives in keys; the name stays here for earlier callers)
from .options import DeidentifyOptions
from .review import ANY_VALUE, ReviewDecision


def review_store_path(key_file) -> Path:
    """<folder of the key>/review_decisions.json."""
    return Path(key_file).parent / REVIEW_STORE_FILE_NAME


def holds_values(decision) -> bool:
    """Whether a decision (ReviewDecision or its dict) carries a judged or a new value."""
    data = decision.to_dict() if isinstance(decision, ReviewDecision) else dict(decision)
    return data.get("value", ANY_VALUE) not in ("", ANY_VALUE) or bool(data.get("new_value"))


def without_decisions(options: DeidentifyOptions) -> DeidentifyOptions:
    """A copy of the options with no review decisions: what may go into Slicer's settings."""
    data = options.to_dict()
    data["review_decisions"] = []
    return DeidentifyOptions.from_dict(data)


def settings_profile(options: DeidentifyOptions) -> str:
    """The profile as JSON for Slicer's settings: the options, never a decision."""
    return without_decisions(options).to_json()


def load_decisions(path) -> tuple:
    """The saved decisions as dicts (ReviewDecision.to_dict); () when there is no store.
    ValueError for a store that is not a list of decisions."""
    path = Path(path)
    if not path.exists():
        return ()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise TypeError("not a list")
        return tuple(ReviewDecision(**dict(d)).to_dict() for d in data)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path} does not hold review decisions: {error}") from None


def save_decisions(path, decisions) -> None:
    """Write the decisions (ReviewDecision or dicts), owner-only, atomically. Nothing is created for no
    decisions where no store exists yet."""
    path = Path(path)
    entries = [d.to_dict() if isinstance(d, ReviewDecision) else ReviewDecision(**dict(d)).to_dict()
               for d in decisions]
    if not entries and not path.exists():
        return
    make_private_dir(path.parent)   # 0700, as the key's folder (keys.make_private_dir)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump(entries, stream, indent=1)
    os.chmod(temporary, 0o600)   # O_CREAT's mode is filtered by the umask; a file left by a crash keeps its own
    os.replace(temporary, path)


def merged(saved, decisions) -> tuple:
    """Saved decisions and new ones, one per (attribute, value); the newer wins (as the import
    controller merges a profile's decisions)."""
    result = {}
    for decision in list(saved) + list(decisions):
        data = decision.to_dict() if isinstance(decision, ReviewDecision) else ReviewDecision(**dict(decision)).to_dict()
        result[(data["attribute"], data["value"])] = data
    return tuple(result.values())


def add_decisions(path, decisions) -> tuple:
    """Merge new decisions into the store at path; returns what it now holds."""
    combined = merged(load_decisions(path), decisions)
    save_decisions(path, combined)
    return combined
