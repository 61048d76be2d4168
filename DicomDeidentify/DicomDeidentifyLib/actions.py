"""Turn a Table E.1-1 row and the enabled options into one action to apply.

Action codes (PS3.15 E.1): X remove, Z empty, D dummy, U new UID, K keep,
C clean. Compound codes leave the choice to keep the object conformant; with
no IOD knowledge at hand we pick the variant that is valid for any attribute
type and still carries no identity:
  X/Z -> Z for values (a zero-length Type 3 value is allowed, a Type 2 must
         stay); for sequences X, since a present Type 3 sequence needs items,
         except the one X/Z sequence that is Type 2 (TYPE_2_SEQUENCES),
  X/D, Z/D, X/Z/D -> D (a dummy is valid even for Type 1),
  X/Z/U* -> U* (keep the sequence, replace every UID inside it).
"""
from __future__ import annotations

from .options import DeidentifyOptions
from .tables import ProfileRow

REMOVE, EMPTY, DUMMY, NEW_UID, KEEP, CLEAN, UIDS_INSIDE = "X", "Z", "D", "U", "K", "C", "U*"
REMOVE_OR_EMPTY = "X/Z"

# Acquisition Context Sequence is Type 2 in the Acquisition Context Module (PS3.3 C.7.6.14).
TYPE_2_SEQUENCES = frozenset({0x00400555})

# Attributes the table says to remove that are Type 2C in the Patient Module (PS3.3 C.7.1.1):
# required, possibly empty, when the patient is an animal. Emptied instead of removed then.
TYPE_2_FOR_ANIMALS = frozenset({0x00102297, 0x00102299})   # Responsible Person, Responsible Organization
ANIMAL_MARKERS = ("PatientSpeciesDescription", "PatientSpeciesCodeSequence")

# Not in Table E.1-1 but never kept: they hold (encrypted) original values that cannot be
# inspected (PS3.15 E.1 says encrypted originals go there). Encrypted Attributes Sequence,
# Encrypted Content.
UNINSPECTABLE = frozenset({0x04000500, 0x04000520})

COMPOUND = {"X/Z": REMOVE_OR_EMPTY, "X/D": DUMMY, "Z/D": DUMMY, "X/Z/D": DUMMY, "X/Z/U*": UIDS_INSIDE}


class ActionResolver:
    """Decides, for one set of profile options, which action each Table E.1-1 row gets (PS3.15 E.1, E.3).

    `resolve(row)` returns (action code, column name): an enabled option's column wins over "basic", and
    compound codes are narrowed as the module docstring says. Results are cached per row tag, so one
    resolver serves a whole run; build a new one when the options change."""
    def __init__(self, options: DeidentifyOptions):
        self.columns = options.enabled_columns()
        self._cache: dict[str, tuple[str, str]] = {}

    def resolve(self, row: ProfileRow) -> tuple[str, str]:
        """(action, column that decided it): an enabled option's column wins over the basic one."""
        cached = self._cache.get(row.tag)
        if cached is None:
            cached = self._cache[row.tag] = self._resolve(row)
        return cached

    def _resolve(self, row: ProfileRow) -> tuple[str, str]:
        by_option = [(row.action(c), c) for c in self.columns if row.action(c)]
        if by_option:
            # Two options may disagree (Retain Device Identity K, Modified Dates C on a
            # calibration date): cleaning protects more than keeping, so C wins.
            code, column = next((a for a in by_option if a[0] == CLEAN), by_option[0])
        else:
            code, column = row.action("basic"), "basic"
        return COMPOUND.get(code, code), column
