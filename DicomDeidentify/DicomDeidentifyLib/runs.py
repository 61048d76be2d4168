"""One de-identification run, start to finish: key, linkage store, report, files.

`deidentify_folder` is what the command line, the Slicer module and the Python
console call. The destination is either a plain folder or a side database (a
folder Slicer indexes as a separate DICOM database); secrets (key, linkage,
reports) always live apart from it, because the destination is what people share.
"""
from __future__ import annotations

import datetime
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .batch import deidentify_paths
from .keys import default_key_file, load_or_create_key
from .linkage import LinkageStore, linkage_path
from .options import DeidentifyOptions
from .report import RunReport
from .results import FileResult, RunSummary

SIDE_DATABASE_MARKER = "slicer-deidentify-side-database.json"
CTK_DATABASE_FILE = "ctkDICOM.sql"   # what marks a folder as a ctkDICOMDatabase (Slicer's DICOM database)


@dataclass
class RunResult:
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
                      place: Callable[[FileResult], None] | None = None) -> RunResult:
    """De-identify every file under `inputs` into `destination`; record the run for key holders.

    `place(result)`, if given, sees each result before it is recorded and may move its output
    (updating result.output): the import controller holds files back for review that way. Into
    a side database without `place`, files are placed as the Slicer import places them
    (import_controller.Holder): a file with a kept value or pixels not proven clean is held in
    held/pending/ beside the key, outside the side database; RunResult.held lists them.

    Raises KeyFileError for a missing or unreadable key, ValueError for secrets placed inside
    the destination or an input inside it.
    """
    options = options or DeidentifyOptions()
    inputs = [Path(i) for i in ([inputs] if isinstance(inputs, (str, os.PathLike)) else inputs)]
    destination = Path(destination).resolve()
    key_path = Path(key_file) if key_file else default_key_file()
    reports = Path(report_dir) if report_dir else key_path.parent / "reports"
    for secret in (key_path.resolve(), reports.resolve(), linkage_path(key_path).resolve()):
        if secret == destination or destination in secret.parents:
            raise ValueError(f"{secret} is inside {destination}: secrets and reports must live apart from "
                             "what is shared")
    if (destination / CTK_DATABASE_FILE).exists() and not is_side_database(destination):
        raise ValueError(f"{destination} is a DICOM database of Slicer's (it holds {CTK_DATABASE_FILE}): "
                         "de-identified files go to a folder of their own")
    key, created = load_or_create_key(key_path, create_key)
    holder = None
    if side_database and place is None and not dry_run:
        from .import_controller import Holder, ImportController, ImportOutcome   # it builds on this module
        holder = Holder(ImportController(destination, options, key_file=key_path, linkage=linkage),
                        ImportOutcome())
        place = holder.place
    run_id = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
    report = RunReport(reports / run_id, options, inputs, str(destination), with_originals=linkage)
    store = None
    if not dry_run:
        if side_database:
            mark_side_database(destination)
        store = LinkageStore(linkage_path(key_path), keep_originals=linkage)
        store.start_run(run_id, destination, side_database, options.to_dict(), inputs)

    def on_result(result: FileResult) -> None:
        if place is not None:
            place(result)
        report.add(result)
        if store is not None:
            store.add(result)

    summary = RunSummary(cancelled=True)
    try:
        summary = deidentify_paths(inputs, destination, options, key, jobs=jobs, dry_run=dry_run,
                                   progress=progress, on_result=on_result, cancel=cancel)
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


def mark_side_database(folder: Path) -> None:
    """A small marker that says what the folder is; it holds nothing secret."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / SIDE_DATABASE_MARKER
    if marker.exists():
        return
    temporary = folder / f".{SIDE_DATABASE_MARKER}.{os.getpid()}.partial"
    temporary.write_text(json.dumps({"created_by": "SlicerDeidentify", "layout": "patient/study/series/instance",
                                     "contents": "de-identified DICOM files only"}, indent=1))
    os.replace(temporary, marker)


def is_side_database(folder: Path) -> bool:
    return (Path(folder) / SIDE_DATABASE_MARKER).exists()
