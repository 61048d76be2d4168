"""Replace UIDs by 2.25.<integer> values derived from the key (PS3.5 B.2).

The same original UID always maps to the same new UID for the same key, so
references between objects (Referenced SOP Instance UID, Frame of Reference,
RT and SR references, Media Storage SOP Instance UID) stay consistent.
"""
from __future__ import annotations

from .keyed_hash import KeyedHasher

STANDARD_UID_ROOT = "1.2.840.10008."


def is_standard_uid(uid: str) -> bool:
    """UIDs defined by the standard (SOP classes, transfer syntaxes, ...) identify nobody."""
    return uid.startswith(STANDARD_UID_ROOT)


CACHE_LIMIT = 100_000   # shared cache entries kept before it starts over (memory stays bounded)


class UidMapper:
    """Maps the UIDs of one file; `mapped` is what this file used (for the linkage store).
    `shared` (optional) remembers mappings across files: a series repeats its study, series
    and frame of reference UIDs in every file, and each mapping costs a keyed hash."""

    def __init__(self, hasher: KeyedHasher, shared: dict | None = None):
        self._hasher = hasher
        self._shared = shared if shared is not None else {}
        self.mapped: dict[str, str] = {}

    def map(self, uid: str) -> str:
        uid = uid.strip().rstrip("\x00")
        if not uid:
            return uid
        new = self.mapped.get(uid) or self._shared.get(uid)
        if new is None:
            if len(self._shared) >= CACHE_LIMIT:
                self._shared.clear()
            # 128 bits as in a UUID-derived UID: at most 44 characters, no leading zero.
            new = self._shared[uid] = "2.25." + str(self._hasher.integer("uid", uid, 128))
        self.mapped[uid] = new
        return new
