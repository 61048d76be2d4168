"""Review of what a run kept and could not judge, as MeVisLab's "Had Unhandled Tags" review does.

Some values stay in a de-identified file because an option asks for them (free text kept
by Retain Device Identity, text kept after cleaning, private tags kept as safe, overlay
data under Clean Graphics). A person decides: keep, remove, or edit. Until then the files
are held back (see import_controller); the decisions are then applied to the held,
already de-identified files and can be saved into the profile, so that the next run
applies them by itself.

Attributes are addressed by the engine's paths: "StudyDescription",
"ContentSequence[0].TextValue", "(0019,100C)", "RequestAttributesSequence[1].(0019,100C)".
A review row groups them across items and files: "ContentSequence[*].TextValue".
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from pydicom.dataset import Dataset
from pydicom.datadict import tag_for_keyword
from pydicom.tag import Tag

from .character_sets import CHARACTER_SET_VRS, fit_character_set

KEEP, REMOVE, EDIT = "keep", "remove", "edit"
ANY_VALUE = "*"
_TOKEN = re.compile(r"^(?:(?P<keyword>[A-Za-z][A-Za-z0-9]*)|\((?P<group>[0-9A-Fa-f]{4}),(?P<element>[0-9A-Fa-f]{4})\))"
                    r"(?:\[(?P<index>\d+)\])?$")


@dataclass(frozen=True)
class ReviewDecision:
    """What to do with an attribute (every value, or one value) wherever it was kept."""
    attribute: str              # a grouped path: "ContentSequence[*].TextValue"
    decision: str               # keep, remove, edit
    value: str = ANY_VALUE      # the value as shown in the review, or * for any
    new_value: str = ""         # for edit

    def __post_init__(self):
        if self.decision not in (KEEP, REMOVE, EDIT):
            raise ValueError(f"review decision must be keep, remove or edit, not {self.decision!r}")

    def covers(self, attribute: str, value: str) -> bool:
        """Whether this decision settles the kept value `value` at the grouped path `attribute` (same path,
        and the decision's value is that value or ANY_VALUE)."""
        return self.attribute == attribute and self.value in (ANY_VALUE, value)

    def to_dict(self) -> dict:
        """The decision as a dict of its fields, as profiles save it (DeidentifyOptions.review_decisions)."""
        return asdict(self)


@dataclass
class ReviewRow:
    """One line of the review table: an attribute and a value, how often and where it was kept."""
    attribute: str
    keyword: str
    vr: str
    value: str
    reason: str
    count: int = 0
    files: list = field(default_factory=list)   # outputs (held files) holding it


def grouped(path: str) -> str:
    """'ContentSequence[3].TextValue' -> 'ContentSequence[*].TextValue'."""
    return re.sub(r"\[\d+\]", "[*]", path)


def needs_decision(item) -> bool:
    """Whether a review item (results.ReviewItem or alike) left its value in the output
    (`kept_in_output`), so that a person must decide about it; False for an object without that field."""
    return bool(getattr(item, "kept_in_output", False))


def review_rows(results) -> list:
    """The review table for a run's results: kept items grouped by attribute and value."""
    rows: dict = {}
    for result in results:
        for item in result.review:
            if not needs_decision(item):
                continue
            key = (grouped(item.path), item.value)
            row = rows.get(key)
            if row is None:
                row = rows[key] = ReviewRow(key[0], item.keyword, item.vr, item.value, item.reason)
            row.count += 1
            if result.output and result.output not in row.files:
                row.files.append(result.output)
    return sorted(rows.values(), key=lambda row: (row.attribute, row.value))


def undecided(items, decisions) -> list:
    """The kept items of one file that no decision covers."""
    return [item for item in items if needs_decision(item)
            and not any(d.covers(grouped(item.path), item.value) for d in decisions)]


def decision_for(item, decisions):
    """The last decision that covers an item (later decisions win), or None."""
    found = None
    for decision in decisions:
        if decision.covers(grouped(item.path), item.value):
            found = decision
    return found


def check_release_names(keep, remove, waiting) -> None:
    """Refuse, before anything is released or discarded, decisions a person cannot have meant: a name in
    both `keep` and `remove` (later decisions win, so the files would be discarded or the value removed
    against the keep), or a name no held file waits on (`waiting`: the grouped paths of the held files'
    items that need a decision; a miscased name is named with the spelling that waits). Raises
    ValueError, one line naming every such name; returns None when all names are good."""
    keep, remove, waiting = list(keep), list(remove), set(waiting)
    both = sorted(set(keep) & set(remove))
    if both:
        raise ValueError(f"{', '.join(both)} given to both --keep and --remove: decide once per attribute "
                         "(nothing was released)")
    unknown = [name for name in dict.fromkeys(keep + remove) if name not in waiting]
    if unknown:
        by_case = {name.lower(): name for name in waiting}
        named = ", ".join(f"{name} (did you mean {by_case[name.lower()]}?)" if name.lower() in by_case else name
                          for name in unknown)
        raise ValueError(f"no held file waits on {named}: use the names 'held list' shows (nothing was released)")


PIXEL_DATA_PATH = "PixelData"


def discards_file(items, decisions) -> bool:
    """Whether the decisions drop the whole file: "remove" for its pixels (an image without pixels is
    no image) means the file is not released at all."""
    return any(item.path == PIXEL_DATA_PATH and (d := decision_for(item, decisions)) is not None
               and d.decision == REMOVE for item in items if needs_decision(item))


def apply_decisions(dataset: Dataset, items, decisions) -> list:
    """Apply the decisions to the elements the items point at; returns [(path, what was done)].
    Removing deletes the element; editing sets the new value, in a Specific Character Set that holds
    it (character_sets.fit_character_set, whose CharacterSetError it raises)."""
    done, written, nested = [], {}, []
    for item in items:
        decision = decision_for(item, decisions)
        if decision is None or decision.decision == KEEP or item.path == PIXEL_DATA_PATH:
            continue   # pixels are kept or the file is discarded (discards_file), never edited
        chain: list = []
        parent, tag = _locate(dataset, item.path, chain)
        if parent is None or tag not in parent:
            continue
        if decision.decision == REMOVE:
            del parent[tag]
        else:
            parent[tag].value = decision.new_value
            if parent[tag].VR in CHARACTER_SET_VRS:
                if parent is dataset:
                    written[item.path] = decision.new_value
                else:   # inside an item, which may declare a character set of its own
                    nested.append((chain, item.path, decision.new_value))
        done.append((item.path, decision.decision))
    if written or nested:   # a person's new value in a character set that holds it (character_sets)
        fit_character_set(dataset, written, nested)
    return done


def _locate(dataset: Dataset, path: str, chain=None):
    """(the data set holding the last element of `path`, its tag), or (None, None) if the path does
    not lead anywhere in this data set. `chain`, a list, gets the data sets from `dataset` down to
    that one."""
    tokens = _split(path)
    current = dataset
    for position, token in enumerate(tokens):
        if chain is not None:
            chain.append(current)
        match = _TOKEN.match(token)
        if match is None:
            return None, None
        if match["keyword"]:
            tag = tag_for_keyword(match["keyword"])
            if tag is None:
                return None, None
            tag = Tag(tag)
        else:
            tag = Tag(int(match["group"], 16), int(match["element"], 16))
        if position == len(tokens) - 1:
            return current, tag
        if tag not in current or match["index"] is None:
            return None, None
        items = current[tag].value
        index = int(match["index"])
        if index >= len(items):
            return None, None
        current = items[index]
    return None, None


def _split(path: str) -> list:
    """'A[0].(0019,100C)' -> ['A[0]', '(0019,100C)']; a '.' inside parentheses never splits (it can't occur)."""
    return [token for token in re.split(r"\.(?![^()]*\))", path) if token]


def decisions_from_profile(entries) -> list:
    """ReviewDecision objects from a profile's saved decisions (dicts of ReviewDecision's fields, or
    ReviewDecisions); None or () gives []. Raises ValueError for an unknown decision, TypeError for a
    dict with other fields."""
    return [ReviewDecision(**entry) if isinstance(entry, dict) else entry for entry in entries or ()]
