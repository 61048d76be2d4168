"""Replace UIDs by 2.25.<integer> values derived from the key (PS3.5 B.2).

The same original UID always maps to the same new UID for the same key, so
references between objects (Referenced SOP Instance UID, Frame of Reference,
RT and SR references, Media Storage SOP Instance UID) stay consistent.
"""
from __future__ import annotations

from pydicom._uid_dict import UID_dictionary

from .keyed_hash import KeyedHasher

STANDARD_UID_ROOT = "1.2.840.10008."
# The standard's registry of UIDs (PS3.6 Annex A: SOP classes, transfer syntaxes, coding schemes,
# well-known frames of reference and SOP instances, ...), as pydicom ships it. The root alone
# says nothing: a writer may put instance UIDs under 1.2.840.10008 too, and those identify a scan.
WELL_KNOWN_UIDS = frozenset(UID_dictionary)


def is_standard_uid(uid: str) -> bool:
    """Whether `uid` is one the standard's registry defines (PS3.6 Annex A), which identifies
    nobody and is kept; any other UID, whatever its root, is an instance's and is replaced.
    Trailing padding (space, NUL) is ignored."""
    return uid.strip(" \x00") in WELL_KNOWN_UIDS


# Attributes whose UIDs name a class, an encoding, a coding scheme or a creator, not an instance:
# never replaced (whatever their value: a private SOP class is a class too).
UID_KEEP_SUFFIXES = ("ClassUID", "SyntaxUID")
UID_KEEP_KEYWORDS = frozenset({"CodingSchemeUID", "ContextUID", "MappingResourceUID",
                               "ContextGroupExtensionCreatorUID", "PrivateInformationCreatorUID"})


def names_no_instance(keyword: str) -> bool:
    """Whether a UI attribute (by its keyword) holds UIDs of classes, encodings, coding schemes
    or creators, which the engine keeps, rather than of instances."""
    return keyword.endswith(UID_KEEP_SUFFIXES) or keyword in UID_KEEP_KEYWORDS


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
        """The new UID for `uid`: '2.25.' and 128 bits of the keyed hash (PS3.5 B.2), at most 44 characters.

        Leading/trailing spaces and trailing NULs are ignored; an empty UID maps to ''. The same UID and key
        always give the same result; the mapping is recorded in `mapped`. Does not check whether `uid` is a
        standard one (is_standard_uid): the caller decides what to replace."""
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
