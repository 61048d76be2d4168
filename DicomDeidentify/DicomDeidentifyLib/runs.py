"""One de-identification run, start to finish: key, linkage store, report, files.

`deidentify_folder` is what the command line, the Slicer module and the Python
console call. The destination is either a plain folder or a side database (a
folder Slicer indexes as a separate DICOM database); secrets (key, linkage,
reports) always live apart from it, because the destination is what people share.
"""
from __future__ import annotations

import datetime
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .batch import deidentify_paths
from .destinations import (check_destination_folder, destination_marker, mark_destination,
                           refuse_inside_another_destination)
from .errors import SideDatabaseRefused
# the side database's marker and rules live in a module without pydicom (the hook imports them at
# Slicer's start, review NC1); re-exported here, where callers have always found them
from .side_database import (CTK_DATABASE_FILE, SIDE_DATABASE_MARKER, is_side_database,  # noqa: F401
                            mark_side_database, side_database_refusal)
from .bounded_read import ReadLimits
from .keys import default_key_file, load_or_create_key
from .linkage import LinkageStore, linkage_path
from .marker_files import key_fingerprint, refuse_another_key
from .options import DeidentifyOptions
from .page_places import (SHOWS_ORIGINALS, recorded_destinations, refuse_holding_destination,
                          refuse_inside_destination)
from .pixel_cache import cache_folder
from .report import RunReport
from .result_spool import ResultSpool
from .results import FileResult, RunSummary


# what the messages say of the key's secrets (key, linkage store, pixel cache) found inside a destination
KEY_APART = ("it holds the key's secrets (what undoes the de-identification); keep it in a folder of its own, "
             "apart from anything shared (the default is ~/.slicer-deidentify)")


@dataclass
class RunResult:
    """What deidentify_folder returns: the run's `summary` (results.RunSummary), its `run_id`, the paths of
    report.json and report.html, the key file used and whether it was created now (`key_created`), the
    linkage store's path (None for a dry run, which records nothing) and the files `held` back from a side database."""
    summary: RunSummary
    run_id: str
    report_json: Path
    report_html: Path
    key_file: Path
    key_created: bool
    linkage: Path | None
    held: list = field(default_factory=list)   # import_controller.HeldFile: held back from the side database


def deidentify_folder(inputs, destination, options: DeidentifyOptions | None = None, *,
                      key_file=None, create_key: bool = False, side_database: bool = False,
                      linkage: bool = True, jobs: int = 1, dry_run: bool = False,
                      progress: Callable[[int, int, FileResult], None] | None = None,
                      cancel: threading.Event | None = None, report_dir=None,
                      place: Callable[[FileResult], None] | None = None, limits: ReadLimits | None = None,
                      destination_inside_input: bool = False, cluster=None) -> RunResult:
    """De-identify every file under `inputs` into `destination`; record the run for key holders.

    `place(result)`, if given, sees each result before it is recorded and may move its output
    (updating result.output): the import controller holds files back for review that way. Into
    a side database without `place`, files are placed as the Slicer import places them
    (import_controller.Holder): a file with a kept value or pixels not proven clean is held in
    held/pending/ beside the key, outside the side database; RunResult.held lists them.

    A missing key is created when `create_key` asks for it or on first use of its location
    (keys.may_create_key: the one rule; RunResult.key_created says so).

    Raises errors.ProfileError for an unfit fixed Patient's Name or ID (options.check_fixed_values),
    KeyFileError for a missing key that may not be created or an unreadable one, ValueError for secrets placed inside
    the destination (the report folder: inside any destination, or holding this run's or a recorded
    one, page_places), a destination that is a file or cannot be made or written
    (destinations.check_destination_folder), a destination inside Slicer's DICOM database
    (check_destination), an input inside the destination, or a destination inside an input (unless
    `destination_inside_input`: the import routing's case, where the walk leaves the destination out).
    An --output folder gets destinations.OUTPUT_MARKER with its first output (written now or already
    present), so that pages are never placed in it, whichever key they belong to. Both markers record
    the key's fingerprint (marker_files.py; an older marker without one gets this key's): a destination
    whose marker records another key's is refused (ValueError), so one destination holds one key's
    outputs. A plain destination (`side_database` False) that is or lies inside a side database is
    refused too (refuse_side_database_as_output), and so is any destination inside another one
    (destinations.refuse_inside_another_destination).

    `cluster` (an open cluster.DaskCluster): the files are processed on its workers; the key,
    linkage store, report and placing stay here, as in a local run (batch.deidentify_paths).
    """
    options = options or DeidentifyOptions()
    options.check_fixed_values()   # before any key, folder or file is touched
    # absolute (not resolved: the names given): the report and the linkage store name each input by a path
    # that still finds it from another folder (compare, lookup, a later run)
    inputs = [Path(os.path.abspath(i)) for i in ([inputs] if isinstance(inputs, (str, os.PathLike)) else inputs)]
    destination = Path(destination).resolve()
    key_path = Path(key_file) if key_file else default_key_file()
    reports = Path(report_dir) if report_dir else reports_folder(key_path)
    # the key, the linkage store, the pixel cache and the report are secrets: never inside this run's
    # destination nor any other (recorded by this key, marked, or holding outputs: page_places), checked
    # before any of them is made or read
    recorded = recorded_destinations(key_path)
    shared = [destination, *recorded]
    for secret, what, why in ((key_path, "the key file", KEY_APART), (linkage_path(key_path), "the linkage store", KEY_APART),
                              (cache_folder(key_path), "the pixel cache", KEY_APART),
                              (reports, "the report folder", SHOWS_ORIGINALS)):
        refuse_inside_destination(secret, what, shared, why)
    # nor around it: a report folder that holds a destination is shared along with it (a zip of the parent)
    refuse_holding_destination(reports, "the report folder", shared)
    check_destination(inputs, destination, destination_inside_input)
    if not side_database:
        refuse_side_database_as_output(destination)
    # one key per destination holds for what lies below one too: a subfolder of another key's destination
    refuse_inside_another_destination(destination)
    # one key per destination: a marker that records another key's fingerprint refuses the run, before
    # a key is made (a new key cannot match a recorded fingerprint) or read
    marker = destination_marker(destination)
    if not key_path.exists():
        refuse_another_key(marker, None, destination)
    if not dry_run:
        check_destination_folder(destination)   # a file, /proc, a read-only disk: one line, before the key
    if side_database and not dry_run:
        refusal = side_database_refusal(destination)
        if refusal:
            raise SideDatabaseRefused(refusal)
    key, created = load_or_create_key(key_path, create_key)
    fingerprint = key_fingerprint(key)
    refuse_another_key(marker, fingerprint, destination)
    holder = None
    if side_database and place is None and not dry_run:
        from .import_controller import Holder, ImportController, ImportOutcome   # it builds on this module
        holder = Holder(ImportController(destination, options, key_file=key_path, linkage=linkage),
                        ImportOutcome())
        place = holder.place
    elif side_database and place is None:   # a dry run says what the real run would hold (same decision)
        from .import_controller import preview_placer
        place = preview_placer(options)
    run_id = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
    report = RunReport(reports / run_id, options, inputs, str(destination), with_originals=linkage)
    store = None
    if not dry_run:
        if side_database:
            mark_side_database(destination, fingerprint=fingerprint)
        store = LinkageStore(linkage_path(key_path), keep_originals=linkage)
        store.start_run(run_id, destination, side_database, options.to_dict(), inputs)

    marked = []   # an --output folder is marked as a destination with its first output (destinations.py)

    def on_result(result: FileResult) -> None:
        # written now or by an earlier run (already present): a file of ours is there
        if not (marked or dry_run or side_database) and result.output and _inside(result.output, destination):
            mark_destination(destination, fingerprint)
            marked.append(destination)
        if place is not None:
            place(result)
        report.add(result)
        if store is not None:
            store.add(result)

    # What earlier runs with this key wrote into the destination (or held back from it, beside the
    # key): a file written now for the same instance replaces it, so one version of it stays (batch).
    earlier = {} if store is None else {
        tag: output for tag, output in store.earlier_outputs(destination).items()
        if _inside(output, destination) or _inside(output, key_path.parent)}
    # the results on disk, beside the report (owner-only, anonymous): memory stays flat in the number of files
    recorded = RunSummary(results=ResultSpool(report.folder))
    summary = RunSummary(results=recorded.results, cancelled=True)   # what stays if the run raises
    try:
        summary = deidentify_paths(inputs, destination, options, key, jobs=jobs, dry_run=dry_run,
                                   progress=progress, on_result=on_result, cancel=cancel, limits=limits,
                                   earlier_outputs=earlier,
                                   # the cache keeps what OCR read (identifying text): only where the key
                                   # holders keep originals; --no-linkage keeps none (pixel_cache.py)
                                   pixel_cache=None if dry_run or not linkage else cache_folder(key_path),
                                   cluster=cluster, summary=recorded, while_waiting=report.prepare_page)
    finally:
        if holder is not None:   # also after Ctrl-C: what is held must stay findable
            holder.finish()
        if store is not None:   # also after Ctrl-C: what was written is recorded
            store.finish_run(summary.totals())
            store.close()
        json_path, html_path = report.write(summary)
    return RunResult(summary, run_id, json_path, html_path, key_path, created,
                     linkage_path(key_path) if store is not None else None,
                     holder.outcome.held if holder is not None else [])


def _inside(path, folder: Path) -> bool:
    return Path(os.path.realpath(folder)) in Path(os.path.realpath(path)).parents


def reports_folder(key_file) -> Path:
    """Where runs with this key write their reports (and the glue its failure notes): beside the key."""
    return Path(key_file).parent / "reports"


def refuse_side_database_as_output(destination: Path) -> None:
    """ValueError (one line) when `destination`, named as a plain output folder, is a side database or
    lies inside one: written there as a plain folder, files that need review would not be held back
    (import_controller.Holder) and Slicer would index them at once."""
    destination = Path(os.path.realpath(destination))
    for folder in (destination, *destination.parents):
        if is_side_database(folder):
            where = "is" if folder == destination else f"is inside {folder},"
            raise ValueError(f"the output folder {destination} {where} a side database: write into it as a side "
                             "database (--into on the command line), which holds back files that need review, or "
                             "name another output folder")


def check_destination(inputs: list, destination: Path, destination_inside_input: bool = False) -> None:
    """Raise ValueError if `destination` lies in Slicer's DICOM database folder at any depth (a folder
    holding ctkDICOM.sql that is not a side database: Slicer owns its layout, and what is written there
    is mixed with originals), inside a side database (the side database itself is the destination),
    inside an input, or holds an input."""
    destination = Path(os.path.realpath(destination))
    for folder in (destination, *destination.parents):
        if not (folder / CTK_DATABASE_FILE).exists():
            continue
        if not is_side_database(folder):
            # the folder names a database, not a patient: the text may be shown (SideDatabaseRefused is a SafeError)
            raise SideDatabaseRefused(f"{destination} is {'' if folder == destination else 'inside '}a DICOM database of "
                             f"Slicer's ({folder} holds {CTK_DATABASE_FILE}): de-identified files go to a folder "
                             "of their own")
        if folder != destination:
            raise ValueError(f"{destination} is inside the side database {folder}: name the side database itself")
    for source in inputs:
        source = Path(os.path.realpath(source))
        if source == destination or destination in source.parents:
            raise ValueError(f"{source} is inside the output folder {destination}: choose another output")
        if source in destination.parents and not destination_inside_input:
            raise ValueError(f"the output folder {destination} is inside the input {source}: choose an output "
                             "outside the inputs")

