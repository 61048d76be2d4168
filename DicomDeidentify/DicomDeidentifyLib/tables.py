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
        return self.actions.get(column, "")


class ProfileTable:
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
    return ProfileTable(_document("ps315_profile.json"))


def safe_private_table(extra: tuple = ()) -> SafePrivateTable:
    return SafePrivateTable(_document("ps315_safe_private.json"), extra)
