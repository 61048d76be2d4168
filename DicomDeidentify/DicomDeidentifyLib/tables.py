"""Load the generated PS3.15 tables (data/*.json) and look attributes up by tag.

The JSON files are produced by DicomDeidentify/Tools/generate_profile_tables.py
from the standard; nothing here is typed by hand.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class ProfileRow:
    """One row of Table E.1-1: the basic action and the action of each option column."""
    tag: str
    name: str
    actions: dict = field(hash=False, compare=False)

    def action(self, column: str) -> str:
        """The action code (e.g. 'X', 'X/Z/D', 'K', 'C') this row gives in `column` ('basic' or an
        option column of Table E.1-1), or '' when that column leaves the row blank."""
        return self.actions.get(column, "")


class ProfileTable:
    """PS3.15 Table E.1-1, as generated into data/ps315_profile.json (`document`: its parsed JSON).

    `editions` (str) and `sources` (list of dicts) name the editions of the standard and the source
    files (with SHA-256) the table was made from; `columns` the action columns ('basic' and each
    option). Rows are looked up by tag (lookup); rows with 'x' in the tag, such as (50xx,xxxx),
    match through their masks. len() is the row count.
    Raises KeyError or ValueError on a document without those fields or with a malformed tag value."""
    def __init__(self, document: dict):
        self.editions = document["editions"]
        self.sources = document["sources"]
        self.columns = document["columns"]
        self._exact: dict[int, ProfileRow] = {}
        self._masked: list[tuple[int, int, ProfileRow]] = []
        for entry in document["attributes"]:
            row = ProfileRow(entry["tag"], entry["name"],
                             {col: entry[col] for col in self.columns if col in entry})
            value = int(entry["value"], 16)
            if "mask" in entry:
                self._masked.append((value, int(entry["mask"], 16), row))
            else:
                self._exact[value] = row

    def lookup(self, tag: int) -> ProfileRow | None:
        """The row for `tag` (an int, group << 16 | element), or None when Table E.1-1 does not list it.
        An exact tag wins over a masked (repeating group) row."""
        row = self._exact.get(tag)
        if row is not None:
            return row
        for value, mask, masked_row in self._masked:
            if tag & mask == value:
                return masked_row
        return None

    def __len__(self) -> int:
        return len(self._exact) + len(self._masked)


class SafePrivateTable:
    """Table E.3.10-1: (group, private creator, element low byte) known to carry no identity."""

    def __init__(self, document: dict, extra: tuple = ()):
        self.editions = document["editions"]
        # key -> the VR the table gives ('' where it gives none, 'OW/OB' where it gives two)
        self._vrs = {(int(e["group"], 16), e["creator"].strip().upper(), int(e["element"], 16)): e.get("vr", "")
                     for e in document["attributes"]}
        self._safe = set(self._vrs)
        for group, creator, element in extra:
            self._safe.add((group, creator.strip().upper(), element & 0xFF))

    def is_safe(self, group: int, creator: str, element: int) -> bool:
        """Whether the private attribute is safe to keep (PS3.15 Table E.3.10-1, or `extra`): `group` (int),
        its private `creator` (compared stripped and upper-case), `element` (int; only its low byte counts)."""
        return (group, creator.strip().upper(), element & 0xFF) in self._safe

    def vr(self, group: int, creator: str, element: int) -> str:
        """The VR Table E.3.10-1 gives the attribute ('' if none, or not listed there)."""
        return self._vrs.get((group, creator.strip().upper(), element & 0xFF), "")

    def __len__(self) -> int:
        return len(self._safe)


@lru_cache(maxsize=None)
def _document(name: str) -> dict:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def profile_table() -> ProfileTable:
    """PS3.15 Table E.1-1 from data/ps315_profile.json, loaded once per process (cached).
    Raises OSError or ValueError if the packaged data file is missing or not valid JSON."""
    return ProfileTable(_document("ps315_profile.json"))


def safe_private_table(extra: tuple = ()) -> SafePrivateTable:
    """PS3.15 Table E.3.10-1 (safe private attributes) from data/ps315_safe_private.json, plus `extra`:
    (group int, private creator str, element int) triples the user declared safe
    (DeidentifyOptions.extra_safe_private). The JSON is read once per process; the table is built per call."""
    return SafePrivateTable(_document("ps315_safe_private.json"), extra)
