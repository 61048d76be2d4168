"""De-identify files and folders: worker processes, progress, cancel, resume.

`deidentify_paths` is the one API that the command line, the Slicer module
and the Python console share.
"""
from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Callable, Iterable

from .bounded_read import ReadLimits
from .destinations import make_destination_folder
from .dicom_io import remove_partial_files
from .engine import Deidentifier
from .input_files import iter_input_files, walk_inputs  # noqa: F401  (iter_input_files: used by compare)
from .options import DeidentifyOptions
from .pipeline import deidentify_file, remove_output
from .results import FAILED, SKIPPED, WRITTEN, FileResult, RunSummary
from .work_units import plan_units, unit_size
from .worker_pool import run_unordered

SAMPLE_CHANGES = 20   # files whose before/after changes are kept for the report


def _within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
        return True
    except ValueError:
        return False


def deidentify_paths(inputs: Iterable, output_dir, options: DeidentifyOptions, key: bytes, *,
                     jobs: int = 1, dry_run: bool = False,
                     progress: Callable[[int, int, FileResult], None] | None = None,
                     on_result: Callable[[FileResult], None] | None = None,
                     cancel: threading.Event | None = None, limits: ReadLimits | None = None,
                     earlier_outputs: dict | None = None, pixel_cache=None, cluster=None,
                     summary: RunSummary | None = None,
                     while_waiting: Callable[[], None] | None = None) -> RunSummary:
    """De-identify every file under `inputs` into `output_dir` (None: nothing is written).
    `pixel_cache`: the folder where Clean Pixel Data keeps its results for the next run (Deidentifier).

    progress(done, total, result) is called after each file; on_result gets the full
    result (with original values, for key-holder reports) before the summary keeps a
    slimmed copy; setting `cancel` stops after the files under way. Only regular files
    are read (input_files); `limits` bounds what one file may cost (bounded_read). Workers get
    the files by series (work_units.plan_units), a unit at a time, and send back a unit's results at
    once. A worker process that dies is replaced; the files of its unit are done again one by one,
    and a file whose worker dies while it holds it alone fails ("worker died").
    `earlier_outputs` (instance tag, pipeline.instance_tag -> path, from the linkage store) are the
    outputs earlier runs wrote into `output_dir`: a file written anew for one of those instances
    replaces it (pipeline); two inputs of this run that are one instance leave one output
    (_one_version_per_instance). Raises errors.ProfileError for an unfit fixed value
    (DeidentifyOptions.check_fixed_values) before any file is read.

    With `cluster` (an open cluster.DaskCluster), the files are processed on its workers instead of
    here (`jobs` is then unused); they are recorded here, the same way. ClusterError if its workers
    cannot see the inputs or write into `output_dir` (cluster.DaskCluster.check).

    `summary`: the RunSummary to record into (runs.deidentify_folder gives one whose results are a
    result_spool.ResultSpool, on disk); by default a new one, its results a list.

    `while_waiting()`, if given, is called once in this process in a pool run (jobs > 1), when every
    worker has its first unit and this process waits for their results (worker_pool.run_unordered's
    `first_wait`): runs.deidentify_folder prepares the report's page then, instead of after the last
    file (issue 19). It must not raise.
    """
    options.check_fixed_values()
    limits = limits or ReadLimits()
    output = Path(output_dir).resolve() if output_dir is not None else None
    entries = list(walk_inputs(inputs, exclude=[output] if output else []))
    files = [entry for entry in entries if isinstance(entry, Path)]
    if output is not None:
        for source in inputs:
            if _within(Path(source), output):
                raise ValueError(f"{source} is inside the output folder {output}: choose another output")
        if not dry_run:
            make_destination_folder(output)   # ValueError, one line, when it cannot be made
            remove_partial_files(output)   # left by a run that was killed: never a finished file
    if cluster is not None:
        cluster.check(inputs, None if dry_run else output)
    summary = summary if summary is not None else RunSummary()
    total = len(entries)
    # instance tag (pipeline.instance_tag) -> the output path of the result of this run that holds its
    # one version (the path only, once recorded: no result stays in memory)
    instances: dict = {}

    def record(result: FileResult) -> None:
        if result.input_tag and output is not None:
            _one_version_per_instance(instances, earlier_outputs or {}, result, output)
        if on_result:
            on_result(result)
        if result.input_tag and instances.get(result.input_tag) is result:
            instances[result.input_tag] = result.output   # where on_result placed it
        # The full result went to on_result (report, linkage store); the summary keeps outcome and
        # review only: memory stays small, and no original identity lingers in it.
        result.changes, result.uid_map, result.removed, result.replaced, result.kept = [], {}, [], [], []
        result.patient = {}
        if result.pixel:   # the "before" thumbnail and what was read show identity: only the report keeps them
            result.pixel = {k: ([{f: v for f, v in r.items() if f != "text"} for r in v]
                                if k in ("regions", "kept", "unexplained") else v)
                            for k, v in result.pixel.items() if not k.endswith("_png")}
        summary.results.append(result)
        if progress:
            progress(len(summary.results), total, result)

    for entry in entries:   # what the walk decided about (not regular, unreadable folders)
        if isinstance(entry, FileResult):
            record(entry)

    if cluster is not None:
        # (no pixel cache there: it lives beside the key, which the workers do not see; earlier versions
        # of an instance are removed here, by record)
        return _on_cluster(cluster, files, options, key, output, dry_run, limits, cancel, summary, total, record)

    if jobs > 1 and "onnxruntime" in sys.modules and hasattr(os, "fork"):
        # This process has run the text detector: a worker forked from it hangs in onnxruntime (its
        # thread pools do not survive a fork), so the files are done here, one after the other.
        logging.getLogger(__name__).info("the text detector is loaded in this process: one job, no workers")
        jobs = 1
    if jobs <= 1 or len(files) <= 1:
        engine = Deidentifier(options, key, pixel_cache)
        for source in files:
            if cancel is not None and cancel.is_set():
                summary.cancelled = True
                break
            engine.record_changes = len(summary.results) < SAMPLE_CHANGES
            record(deidentify_file(engine, source, output, dry_run, limits))
        return summary

    # Options a worker could not start with (a bad region rule file) raise here, as with one job,
    # instead of every worker dying on them in turn.
    Deidentifier(options, key)
    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    # Forked workers share the parent's memory until they write to it; the garbage collector
    # would write to every object it tracks. Frozen objects are left alone (see gc.freeze).
    gc.freeze()
    deaths = 0

    def died(unit: _Unit, exitcode) -> list:
        nonlocal deaths
        deaths += 1
        reason = f"worker died ({_exit_description(exitcode)})"
        return [FileResult(str(source), status=FAILED, reason=reason) for source in unit.files]

    def retry(unit: _Unit) -> list | None:
        """A unit of several files whose worker died: each of its files again, alone (those it had
        written are found already present); a file whose worker dies alone fails."""
        nonlocal deaths
        if len(unit.files) == 1:
            return None
        deaths += 1
        return [_Unit([source]) for source in unit.files]

    units = (_Unit(files_) for files_ in plan_units(files, unit_size(len(files), jobs)))
    finished = False
    try:
        for results in run_unordered(units, _work, jobs=jobs, context=context, initializer=_start_worker,
                                     initargs=(options, key, output, dry_run, max(1, SAMPLE_CHANGES // jobs), limits,
                                               pixel_cache),
                                     died=died, cancel=cancel, retry=retry, first_wait=while_waiting):
            for result in results:
                record(result)
        finished = True
    except KeyboardInterrupt:
        summary.cancelled = True
        raise
    finally:
        gc.unfreeze()   # back to normal collection in a long-lived process (Slicer)
        summary.cancelled = summary.cancelled or len(summary.results) < total
        if (summary.cancelled or deaths or not finished) and output is not None and output.exists():
            remove_partial_files(output)   # what stopped or dead workers left is unfinished
    return summary


def _on_cluster(cluster, files, options, key, output, dry_run, limits, cancel, summary, total, record) -> RunSummary:
    """The files on the cluster's workers, their results recorded here as they come back."""
    Deidentifier(options, key)   # options no worker can start with raise here, as with one job
    finished = False
    try:
        cluster.run(files, options, key, output, dry_run, limits, SAMPLE_CHANGES, record, cancel)
        finished = True
    except KeyboardInterrupt:
        summary.cancelled = True
        raise
    finally:
        summary.cancelled = summary.cancelled or len(summary.results) < total
        unfinished = summary.cancelled or cluster.lost or cluster.lost_workers or not finished
        if unfinished and output is not None and output.exists():
            remove_partial_files(output)   # what stopped or lost workers left is unfinished
    return summary


def _one_version_per_instance(instances: dict, earlier: dict, result: FileResult, output: Path) -> None:
    """One destination holds one version of an instance (issue 13, item 9), decided here, in the order
    results are recorded, after the file is in place (atomic: the new one is renamed in before the old
    goes). The first result of the run for an instance (pipeline.instance_tag) holds it: the version an
    earlier run left (`earlier`: tag -> path, from the linkage store, in the destination or held beside
    the key) is removed if it is another file. A later input of this run that is the same instance
    (another transfer syntax, a re-export) is skipped, saying why, and its output, if another file,
    removed."""
    if not result.output or result.status not in (WRITTEN, SKIPPED):
        return
    first = instances.get(result.input_tag)   # its output path (record), or its result while recorded
    first = getattr(first, "output", first)
    if first and Path(first).is_file():
        if result.output != first:
            remove_output(Path(result.output), output)
            result.status, result.output, result.review = SKIPPED, "", []
            result.reason = "another file of this run is the same instance (one version of an instance per destination)"
        return
    instances[result.input_tag] = result
    for tag in (result.input_tag, result.bytes_tag):   # the bytes' tag: what stores recorded before
        version = earlier.get(tag)
        if version and Path(version) != Path(result.output) and Path(version).is_file():
            remove_output(Path(version), output)
            if result.status == WRITTEN:
                result.reason = "replaces the output of an earlier run (other settings, or another export of this instance)"


def _exit_description(exitcode) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"killed by {name}" + (", as the out-of-memory killer does" if name == "SIGKILL" else "")
    return f"exit code {exitcode}"


_worker: dict = {}


def _keep_freed_memory() -> None:
    """Each file allocates a few buffers of its own size; glibc would map and unmap each one,
    and the page faults of two workers contend in the kernel. Keep freed memory instead."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return   # not glibc: nothing to tune
    libc.mallopt(-3, 256 * 1024 * 1024)   # M_MMAP_THRESHOLD: serve buffers up to 256 MB from the heap
    libc.mallopt(-1, 512 * 1024 * 1024)   # M_TRIM_THRESHOLD: keep up to 512 MB of freed heap


def _start_worker(options, key, output, dry_run, samples, limits, pixel_cache=None) -> None:
    _keep_freed_memory()
    if options.clean_pixel_data:   # workers share the cores: one onnxruntime thread each (set before it loads)
        from .pixel_detector import use_threads
        use_threads(1)
    engine = Deidentifier(options, key, pixel_cache)
    _worker.update(engine=engine, output=output, dry_run=dry_run, samples=samples, done=0,
                   limits=limits)


class _Unit:
    """Files of one series (work_units.plan_units), sent to a worker and back as one message."""
    __slots__ = ("files",)

    def __init__(self, files: list):
        self.files = files


def _work(unit: _Unit) -> list:
    """In a worker: deidentify_file for each file of the unit, in order; one FileResult per file."""
    engine = _worker["engine"]
    results = []
    for source in unit.files:
        engine.record_changes = _worker["done"] < _worker["samples"]   # each worker keeps a few samples
        _worker["done"] += 1
        results.append(deidentify_file(engine, source, _worker["output"], _worker["dry_run"], _worker["limits"]))
    return results
