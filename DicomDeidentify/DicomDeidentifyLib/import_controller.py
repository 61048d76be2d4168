"""What happens when files are imported with "Anonymize on import" ticked; no Slicer needed.

Files in: the paths the user picked (files or folders). Out: de-identified copies in the
side database folder, the list of those that Slicer's indexer may take now, the files held
back for review, the review table, and the run's report; the originals are only read.

  controller = ImportController("/data/side-db", options, key_file=...)
  outcome = controller.import_paths(["/media/cdrom"], progress=..., cancel=...)
  index(outcome.released)                       # Slicer: ctkDICOMIndexer on the side database
  ...the user decides the rows of outcome.review...
  index(controller.release(outcome, decisions, save_profile_to=...))

Held files: a file in which a value was kept that a person must judge (review.py) is moved
out of the side database, into a folder beside the key (owner-only, never shared), until
decisions cover every such value; the profile's saved decisions are applied on the way in.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .destinations import destination_marker
from .dicom_io import read_dataset, write_dataset
from .keys import default_key_file, load_key, make_private_dir, may_create_key
from .linkage import LinkageStore, linkage_path
from .marker_files import key_fingerprint, refuse_another_key
from .options import DeidentifyOptions
from .results import DRY_RUN, SKIPPED, WRITTEN, FileResult, ReviewItem
from .review import ReviewDecision, apply_decisions, decisions_from_profile, discards_file, review_rows, undecided
from .runs import RunResult, deidentify_folder

HELD_FOLDER = "held"
PENDING_INDEX = "pending.json"   # the held files, so that a review can wait for the next session


@dataclass
class HeldFile:
    """A de-identified file held back for review: `output` (where it waits, under held/pending/ beside
    the key, outside the side database), `destination` (its path in the side database once released)
    and `review` (its review.ReviewItem list: the kept values or pixels a person must judge)."""
    output: Path          # where it waits (outside the side database)
    destination: Path     # where it goes once released
    review: list          # its ReviewItems


@dataclass
class ImportOutcome:
    """What an import into the side database did: the `run` (runs.RunResult, None before a run), the
    files `released` into the side database (to index), those `held` (HeldFile), the count settled by
    the profile's saved decisions, and the held files a decision `discarded` (their side database paths)."""
    run: RunResult | None = None
    released: list = field(default_factory=list)   # files now in the side database: index them
    held: list = field(default_factory=list)       # HeldFile
    decided_by_profile: int = 0                    # files whose kept values the profile's decisions settled
    discarded: list = field(default_factory=list)  # held files a decision dropped (their pixels)

    @property
    def review(self) -> list:
        """The review table (review.ReviewRow) of the files still held."""
        return review_rows(_HeldResult(h) for h in self.held)

    def summary(self) -> str:
        """What the user is shown at the end: counts, and where the report is. No file name, path or
        reason: Slicer logs every popup's text (slicer.util._messageDisplay, util.py 5.8.0:3057, main
        583e9b37:3437), original paths often name the patient, and a reason may quote an exception's
        text (review N4). Which files were not imported and why is in the key holders' report."""
        totals = self.run.summary.totals() if self.run else {}
        cancelled = " (cancelled)" if self.run and self.run.summary.cancelled else ""
        lines = [f"{len(self.released)} de-identified file(s) added to the side database, "
                 f"{len(self.held)} held back for review, {len(self.discarded)} discarded after review, "
                 f"{totals.get('skipped', 0)} skipped, "
                 f"{totals.get('failed', 0)} failed{cancelled}"]
        if self.run:
            if totals.get("skipped", 0) or totals.get("failed", 0):
                lines.append("Which files were not imported, and why, is in the report (key holders only).")
            lines.append(f"Report: {self.run.report_html}")
        return "\n".join(lines)


class _HeldResult:
    """A held file seen as the results review_rows() groups."""
    def __init__(self, held: HeldFile):
        self.output, self.review = str(held.output), held.review


HOLD, DISCARD, RELEASE = "hold", "discard", "release"


def placement(review, decisions) -> str:
    """Where a written file with these review items goes in a side database, under the profile's saved
    `decisions` (review.ReviewDecision): HOLD while an item waits for a decision, DISCARD when a decision
    removes it, RELEASE otherwise. The one decision of the real run (Holder.place) and of a dry run
    (preview_placer)."""
    if undecided(review, decisions):
        return HOLD
    return DISCARD if discards_file(review, decisions) else RELEASE


def preview_placer(options: DeidentifyOptions) -> Callable[[FileResult], None]:
    """For a dry run into a side database: marks each result as the real run would place it (held:
    FileResult.held; discarded: skipped with the real run's reason), moving and writing nothing."""
    decisions = decisions_from_profile(options.review_decisions)

    def place(result: FileResult) -> None:
        if result.status not in (WRITTEN, DRY_RUN):
            return
        where = placement(result.review, decisions)
        if where == HOLD:
            result.held = True
        elif where == DISCARD:
            result.status, result.output, result.reason = SKIPPED, "", DISCARDED
    return place


DISCARDED = "discarded: a saved review decision removes images like this one (their pixels)"


class Holder:
    """Where each written file of a run into a side database goes: held back (beside the key, in
    held/pending/) while a kept value or its pixels wait for a decision, discarded or released
    (with the profile's saved decisions applied). The Slicer import, `anonymize --into` and
    runs.deidentify_folder(side_database=True) all place files through this."""

    def __init__(self, controller: "ImportController", outcome: "ImportOutcome"):
        self.controller, self.outcome = controller, outcome
        self.decisions = decisions_from_profile(controller.options.review_decisions)
        self.folder = controller.held_root / "pending"
        for folder in (controller.key_file.parent, controller.held_root, self.folder):   # secrets' folder: owner only
            make_private_dir(folder)

    def place(self, result: FileResult) -> None:
        """Place one file's result (a batch `place` callback): a WRITTEN output is moved to the held folder
        (HOLD), deleted and marked SKIPPED with reason DISCARDED (DISCARD), or released with the saved
        decisions applied (RELEASE); other results are left alone. Updates `result` and the outcome.
        Raises OSError when the move or the rewrite fails, DicomReadError if the written file cannot be read back."""
        if result.status != WRITTEN or not result.output:
            return
        written, outcome = Path(result.output), self.outcome
        where = placement(result.review, self.decisions)
        if where == HOLD:
            target = self.folder / written.relative_to(self.controller.side_database)
            _move(written, target)
            result.output, result.held = str(target), True
            outcome.held.append(HeldFile(target, written, list(result.review)))
            return
        if where == DISCARD:
            written.unlink(missing_ok=True)
            result.status, result.output = SKIPPED, ""
            result.reason = DISCARDED
            outcome.discarded.append(written)
            return
        if _apply_to_file(written, written, result.review, self.decisions):
            outcome.decided_by_profile += 1
        outcome.released.append(written)

    def finish(self) -> None:
        """Record the held files in the index, so that a review can wait for the next session; entries
        whose file is gone (a re-run replaced the held copy: batch._one_version_per_instance) leave it."""
        if self.outcome.held or (self.controller.held_root / PENDING_INDEX).exists():
            self.controller._save_pending(self.controller.pending().held + self.outcome.held)


class ImportController:
    """Imports into one side database folder with one profile (`options`) and one key file (`key_file`,
    default keys.default_key_file()): import_paths runs, pending lists earlier held files, release
    applies review decisions. Held files and their index (pending.json) live in held/ beside the key.
    `linkage`: keep the linkage store's originals; `jobs`: worker processes for the run."""
    def __init__(self, side_database, options: DeidentifyOptions | None = None, *, key_file=None,
                 linkage: bool = True, jobs: int = 1, create_key: bool = False):
        """`create_key`: create a missing key even where its location was used before; without it, the
        key is created only on first use of its location (keys.may_create_key, the one rule)."""
        self.side_database = Path(side_database).resolve()
        self.options = options or DeidentifyOptions()
        self.key_file = Path(key_file) if key_file else default_key_file()
        self.linkage, self.jobs, self.create_key = linkage, jobs, create_key
        self.held_root = self.key_file.parent / HELD_FOLDER

    def import_paths(self, paths, progress: Callable | None = None,
                     cancel: threading.Event | None = None) -> ImportOutcome:
        """De-identify `paths` into the side database; hold back files that need a decision."""
        # the rule, before the Holder makes the held files' folders beside the key (no longer a first use then)
        create_key = may_create_key(self.key_file, self.create_key)
        holder = Holder(self, ImportOutcome())
        try:
            holder.outcome.run = deidentify_folder(paths, self.side_database, self.options, key_file=self.key_file,
                                                   create_key=create_key, side_database=True,
                                                   linkage=self.linkage, jobs=self.jobs, progress=progress,
                                                   cancel=cancel, place=holder.place,
                                                   destination_inside_input=True)   # import_routing: walk leaves it out
        finally:   # also when interrupted: what is held must stay findable
            holder.finish()
        return holder.outcome

    def pending(self) -> ImportOutcome:
        """The files held back by earlier imports into this side database, waiting for review."""
        index = self.held_root / PENDING_INDEX
        if not index.exists():
            return ImportOutcome()
        entries = json.loads(index.read_text(encoding="utf-8"))
        held = [HeldFile(Path(e["output"]), Path(e["destination"]), [ReviewItem(**item) for item in e["review"]])
                for e in entries if Path(e["destination"]).is_relative_to(self.side_database)
                and Path(e["output"]).exists()]
        return ImportOutcome(held=held)

    def _save_pending(self, held: list) -> None:
        """Rewrite the index of held files of this side database (other side databases' entries stay)."""
        index = self.held_root / PENDING_INDEX
        others = []
        if index.exists():
            others = [e for e in json.loads(index.read_text(encoding="utf-8"))
                      if not Path(e["destination"]).is_relative_to(self.side_database)]
        unique = {str(h.output): h for h in held}
        entries = others + [{"output": str(h.output), "destination": str(h.destination),
                             "review": [asdict(item) for item in h.review]} for h in unique.values()]
        temporary = index.with_name(f".{index.name}.{os.getpid()}.partial")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            json.dump(entries, stream, indent=1)
        os.replace(temporary, index)

    def release(self, outcome: ImportOutcome, decisions, save_profile_to=None) -> list:
        """Apply the decisions to the held files every one of whose kept values they cover, move them
        into the side database, and return them (to index). The others stay held. With
        save_profile_to, the decisions are added to the profile saved there. ValueError (one line),
        before anything moves, when the side database's marker records another key's fingerprint:
        a side database started over with another key never takes this key's held files."""
        if outcome.held:
            refuse_another_key(destination_marker(self.side_database), key_fingerprint(load_key(self.key_file)),
                               self.side_database)
        decisions = list(decisions_from_profile(self.options.review_decisions)) + [
            d if isinstance(d, ReviewDecision) else ReviewDecision(**d) for d in decisions]
        released, still_held = [], []
        store = LinkageStore(linkage_path(self.key_file), keep_originals=self.linkage)
        try:
            for held in outcome.held:
                if undecided(held.review, decisions):
                    still_held.append(held)
                    continue
                if discards_file(held.review, decisions):   # its pixels were judged not shareable
                    held.output.unlink(missing_ok=True)
                    outcome.discarded.append(held.destination)
                    continue
                _apply_to_file(held.output, held.destination, held.review, decisions)
                held.output.unlink(missing_ok=True)
                store.move_output(held.output, held.destination)
                released.append(held.destination)
        finally:
            store.close()
        outcome.held = still_held
        outcome.released += released
        released_now = {str(p) for p in released} | {str(p) for p in outcome.discarded}
        self._save_pending([h for h in self.pending().held if str(h.destination) not in released_now])
        if save_profile_to is not None:
            self.options.review_decisions = _merged(self.options.review_decisions, decisions)
            self.options.save(save_profile_to)
        return released


def _merged(saved, decisions) -> tuple:
    """Saved decisions and new ones, one per (attribute, value); the newer wins."""
    merged = {}
    for decision in decisions_from_profile(saved) + list(decisions):
        merged[(decision.attribute, decision.value)] = decision
    return tuple(d.to_dict() for d in merged.values())


def _apply_to_file(source: Path, target: Path, items, decisions) -> bool:
    """Apply the decisions to a de-identified file and write it to target (atomically); a file
    nothing changes in is just moved. Returns whether a decision changed it."""
    dataset = read_dataset(source)
    if not apply_decisions(dataset, items, decisions):
        if source != target:
            _move(source, target)
        return False
    write_dataset(dataset, target)
    return True


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except OSError:   # another file system: copy then remove, never a half file at target
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(source, partial)
        os.replace(partial, target)
        source.unlink()
