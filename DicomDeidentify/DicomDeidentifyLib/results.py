"""What happened to each file and to a run: plain data for the CLI, the GUI, reports and tests."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

WRITTEN, SKIPPED, FAILED, DRY_RUN = "written", "skipped", "failed", "dry-run"
HELD, REVIEW = "held", "review"
ATTENTION = (HELD, REVIEW, FAILED, SKIPPED)
# the reason (pipeline) of an input whose output an earlier run wrote: skipped, not written again (read, to
# know its output's name), nothing of it counted or listed in this run
ALREADY_PRESENT = "already present"
ALREADY_PRESENT_TOTAL = "already_present"   # RunSummary.totals' key: of the skipped, those an earlier run wrote


@dataclass
class ReviewItem:
    """Something a person should look at: kept free text, kept private tags, unknown attributes."""
    path: str        # e.g. "ContentSequence[0].TextValue" or "(0019,100C)"
    keyword: str
    vr: str
    reason: str
    value: str = ""  # the value as written to the output (never the original)
    kept_in_output: bool = False   # the value stays in the output: a person decides (see review.py)


@dataclass
class Change:
    """One attribute that changed; `original` holds PHI and only goes to key-holder reports."""
    path: str
    keyword: str
    action: str      # X, Z, D, U, C, shift
    original: str
    new: str

    def to_dict(self) -> dict:
        """The change as a dict of its fields (the original value included: key holders' reports only)."""
        return asdict(self)


@dataclass
class FileResult:
    """What happened to one input file: its `source` path, `status` (WRITTEN, SKIPPED, FAILED, DRY_RUN),
    the `reason` in words (no value of the file), the `output` path, and the lists and tags described
    beside each field. `changes`, `uid_map`, `patient` and `pixel` may hold original values: they go to
    the linkage store and the key holders' report only."""
    source: str
    status: str = ""
    reason: str = ""
    output: str = ""
    sop_class_uid: str = ""
    removed: list = field(default_factory=list)    # attribute paths
    replaced: list = field(default_factory=list)   # attribute paths (dummy, empty, new UID, cleaned, shifted)
    kept: list = field(default_factory=list)       # listed attributes kept because an option says so
    review: list = field(default_factory=list)     # ReviewItem
    changes: list = field(default_factory=list)    # Change (originals: key holders only)
    uid_map: dict = field(default_factory=dict)    # original UID -> new UID (for the linkage)
    patient: dict = field(default_factory=dict)    # pseudonym, identity hash, date offset
    held: bool = False                             # written, but held back until its review is decided
    pixel: dict = field(default_factory=dict)      # what Clean Pixel Data did (pixel_stage); PHI in before_png
    input_tag: str = ""                            # keyed digest of the instance (pipeline.instance_tag, linkage)
    bytes_tag: str = ""                            # keyed digest of the input's bytes (what older stores keyed on)


@dataclass
class RunSummary:
    """The results of one run, in the order recorded, and whether it was `cancelled`."""
    # FileResult, in the order recorded: a list, or a result_spool.ResultSpool (on disk; a run of
    # runs.deidentify_folder), which keeps the counts too, so that memory stays flat
    results: list = field(default_factory=list)
    cancelled: bool = False

    def count(self, status: str) -> int:
        """The number of results with `status` (WRITTEN, SKIPPED, FAILED or DRY_RUN)."""
        statuses = getattr(self.results, "statuses", None)
        if statuses is not None:
            return statuses[status]
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> int:
        """The number of results that FAILED."""
        return self.count(FAILED)

    def totals(self) -> dict:
        """Counts for reports and the linkage store: {'written', 'skipped', 'failed', 'dry-run': files
        of that status, 'files': all results, 'already_present': skipped because an earlier run wrote the
        output, 'review_items': review items over all files}."""
        totals = {s: self.count(s) for s in (WRITTEN, SKIPPED, FAILED, DRY_RUN)}
        totals["files"] = len(self.results)
        # of the skipped, those an earlier run wrote (pipeline: nothing written or counted now)
        present = getattr(self.results, "already_present", None)
        totals[ALREADY_PRESENT_TOTAL] = present if present is not None else sum(
            1 for r in self.results if r.status == SKIPPED and r.reason.startswith(ALREADY_PRESENT))
        spooled = getattr(self.results, "review_items", None)
        totals["review_items"] = spooled if spooled is not None else sum(len(r.review) for r in self.results)
        return totals


def attention(result) -> str:
    """What a person must do about one file (a FileResult): one of ATTENTION, or "" for nothing.
    "failed" and "skipped" follow its status; "held": written, but held back until its review is decided
    (FileResult.held); "review": written with a value or pixels that a person must still check
    (ReviewItem.kept_in_output). The command line's summary and the report both list files by this."""
    if result.status == SKIPPED and result.reason.startswith(ALREADY_PRESENT):
        return ""   # written by an earlier run: nothing new to do (its review items are that run's report's)
    if result.status in (FAILED, SKIPPED):
        return result.status
    if result.held:
        return HELD
    return REVIEW if any(item.kept_in_output for item in result.review) else ""
