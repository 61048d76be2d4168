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


class UidMapper:
    def __init__(self, hasher: KeyedHasher):
        self._hasher = hasher
        self.mapped: dict[str, str] = {}

    def map(self, uid: str) -> str:
        uid = uid.strip().rstrip("\x00")
        if not uid:
            return uid
        new = self.mapped.get(uid)
        if new is None:
            # 128 bits as in a UUID-derived UID: at most 44 characters, no leading zero.
            new = self.mapped[uid] = "2.25." + str(self._hasher.integer("uid", uid, 128))
        return new
