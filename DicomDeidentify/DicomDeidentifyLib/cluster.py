"""Where files are processed, when not here: the workers of a Dask cluster (dask.distributed).

Only *where* changes. Each task runs pipeline.deidentify_file, the same per-file function as a
local run, on a work unit (work_units.plan_units: files of one Series Instance UID, in the walk's
order, a bounded number), and returns its FileResults; the client records them (batch.deidentify_paths: the
linkage store, the report, the summary) exactly as it records a local worker's. Workers write
de-identified files only, atomically (dicom_io.write_dataset), into the destination, which every
worker must reach at the same path (a shared file system); they never write the linkage store or
the report.

The key and the profile reach the workers in memory: with each task, over the cluster's
connections (TLS when the scheduler is not on this machine), wrapped so that no repr of a task
or its arguments (what Dask logs when a task fails) shows them. Each worker thread builds its
Deidentifier from them on its first task and keeps it for the run's next ones. A worker drops a
run's Deidentifiers once it holds no task of that run (a worker plugin, _key_plugin, on every
worker): at the run's end, and also when the client is killed or loses its connection mid-run, as
the scheduler then releases the client's tasks (the one under way is finished first). The client
also tells every worker at the run's end. So nothing of the key outlives the client on a worker
(but freed memory not yet reused).

A worker lost mid-task (killed, out of memory, its machine gone): the scheduler gives its task to
another worker, whose files already written are found "already present" (skipped, with the same
pseudonyms and UIDs recorded), up to `distributed.scheduler.allowed-failures` times; then every
file of the task fails with "worker died". No file goes unrecorded.

dask is imported only here, and only when a cluster is opened: without the [cluster] extra the
rest of the package is unchanged (and so is Slicer's import path).
"""
from __future__ import annotations

import collections
import contextlib
import gc
import ipaddress
import itertools
import logging
import os
import re
import secrets
import signal
import socket
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .results import FAILED, FileResult
from .work_units import plan_units, unit_size

CLUSTER_EXTRA = "slicer-deidentify[cluster]"
IN_FLIGHT_PER_THREAD = 2    # one running, one queued: workers never wait for the client
STOP_SECONDS = 60           # on Ctrl-C or cancel, how long the tasks under way may take to return
PROBE_PREFIX = ".cluster-probe-"
# local:N only (a running cluster keeps its operator's settings): what the workers, their nannies and the
# scheduler do besides the tasks, cut to what a run of uniform units on this machine needs. Measured on
# the benchmark's 1000-file CT set (2 cores): together with gc.freeze in the workers (_local_worker_plugin)
# they took the workers' and the client's CPU time from ~1.4 to ~1.1 times the local pool's.
LOCAL_CONFIG = {
    "distributed.worker.profile.enabled": False,        # a thread sampling every worker's stack every 10 ms
    "distributed.scheduler.work-stealing": False,       # units are alike, at most 2 per thread in flight
    "distributed.admin.tick.interval": "1s",            # event-loop health check, every 20 ms by default
    "distributed.admin.system-monitor.interval": "5s",  # psutil samples for the dashboard (which is off)
    "distributed.admin.system-monitor.disk": False,
    "distributed.worker.memory.monitor-interval": "1s",  # the memory limits, still checked every second
}

log = logging.getLogger(__name__)


class ClusterError(Exception):
    """A cluster that cannot be used (dask missing, scheduler unreachable, destination not shared):
    the message says what is wrong and what to do. It names no patient value."""


def _distributed():
    try:
        import distributed
    except ImportError as error:
        raise ClusterError(f"--scheduler needs the [cluster] extra (dask[distributed], not installed): "
                           f"pip install '{CLUSTER_EXTRA}'") from error
    return distributed


class _Secret:
    """The profile and key of a run, as sent to the workers; its repr shows neither."""

    def __init__(self, options, key: bytes):
        self.options, self.key = options, key
        self.run = secrets.token_hex(8)   # tells one run's de-identifiers (and tasks) from another's on a worker

    def __repr__(self) -> str:
        return "<key and profile withheld>"


@dataclass(repr=False)
class _Task:
    """The files of one task; its repr (shown by Dask's logs and dashboard) names no path."""
    sources: list   # absolute: a worker's working folder is its own
    output: str | None
    dry_run: bool
    limits: object
    samples: int   # how many of its files keep before/after changes for the report
    given: list    # the paths as the walk gave them; stays with the client (not sent)

    def __getstate__(self):
        return {**self.__dict__, "given": None}

    def __repr__(self) -> str:
        return f"<{len(self.sources)} files>"


_engines: dict = {}   # on a worker: (run, thread) -> Deidentifier, of one run at a time
_engines_lock = threading.Lock()


def _engine(secret: _Secret):
    """This worker thread's de-identifier for the run: built on its first task and kept for the next
    ones (its decisions and hashes, per kind of element and per patient, are what makes the files
    after the first cheap: a new one per task of 25 files ran at 2/3 of the speed); another run's
    are dropped first, so that a worker holds one run's key at most."""
    from .engine import Deidentifier
    slot = (secret.run, threading.get_ident())
    with _engines_lock:
        engine = _engines.get(slot)
        if engine is None:
            for other in [s for s in _engines if s[0] != secret.run]:
                del _engines[other]
            engine = _engines[slot] = Deidentifier(secret.options, secret.key)
        return engine


def _forget(run: str) -> int:
    """Runs on each worker at the end of a run: drops its de-identifiers (and so the key)."""
    with _engines_lock:
        slots = [s for s in _engines if s[0] == run]
        for slot in slots:
            del _engines[slot]
    return len(slots)


TASK_PREFIX = "deidentify-"


def _task_key(run: str, number: int) -> str:
    """A task's key: the run and a number, never a file (Dask shows keys on its dashboard and in logs)."""
    return f"{TASK_PREFIX}{run}-{number}"


def _key_plugin(distributed):
    class _DropKeyWithTasks(distributed.WorkerPlugin):
        """On every worker of the cluster (also those that join later): a run's de-identifiers, and so its
        key, are dropped once the worker holds no task of that run. A run's tasks are held while its client
        wants them: when the client is gone (killed, its connection lost), the scheduler releases them
        (Scheduler.remove_client), the worker forgets them (the one under way once it is done), and the
        key goes with the last. In a live run the next task is on the worker before the one done is
        released (IN_FLIGHT_PER_THREAD), so the de-identifiers are kept from task to task."""

        def setup(self, worker) -> None:
            self.worker = worker

        def transition(self, key, start, finish, **kwargs) -> None:
            if finish != "forgotten" or not isinstance(key, str) or not key.startswith(TASK_PREFIX):
                return
            run = key[len(TASK_PREFIX):].rsplit("-", 1)[0]
            prefix = _task_key(run, 0)[:-1]
            if not any(isinstance(k, str) and k.startswith(prefix) for k in self.worker.state.tasks):
                _forget(run)
    return _DropKeyWithTasks


def deidentify_task(secret: _Secret, task: _Task) -> list:
    """Runs on a worker: deidentify_file for each file of `task`, in order; one FileResult per file.
    deidentify_file never raises for a file, so neither does this (Dask would log the arguments)."""
    from .pipeline import deidentify_file
    engine = _engine(secret)
    output = Path(task.output) if task.output is not None else None
    results = []
    # pydicom's warnings quote values ("Invalid value for VR UI: '<original UID>'"): a worker's stderr is
    # the cluster's log, so they are silenced here as the command line silences them in its own process
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n, source in enumerate(task.sources):
            engine.record_changes = n < task.samples
            results.append(deidentify_file(engine, Path(source), output, task.dry_run, task.limits))
    return results


def _probe(inputs: list, output: str | None, token: str) -> dict:
    """Runs on each worker: which inputs it cannot see, whether it can write into `output` (a hidden
    file named like a partial output, so that a run's clean-up removes one left by a killed probe;
    left for the client to find, which proves the storage is the same), and its versions."""
    import pydicom

    from . import __version__
    answer = {"version": __version__, "pydicom": pydicom.__version__, "host": socket.gethostname(),
              "missing": [i for i in inputs if not os.path.exists(i)], "probe": None, "error": None}
    if output is not None:
        try:
            os.makedirs(output, exist_ok=True)
            path = Path(output) / f"{PROBE_PREFIX}{token}-{secrets.token_hex(4)}.{os.getpid()}.0.partial"
            path.write_text(token)
            answer["probe"] = path.name
        except OSError as error:
            answer["error"] = error.strerror or type(error).__name__
    return answer


def _remove_probes(output: str, token: str) -> int:
    """Runs on each worker: removes its probe files (the client removes those it sees; a worker that
    writes to other storage than the client's keeps none either)."""
    count = 0
    for path in Path(output).glob(f"{PROBE_PREFIX}{token}-*"):
        path.unlink(missing_ok=True)
        count += 1
    return count


@contextlib.contextmanager
def _sigint_ignored():
    """Ctrl-C ignored while local workers are spawned: they inherit it (an ignored signal stays
    ignored across exec, and Python keeps it so), and Ctrl-C in the terminal, sent to the whole
    process group, stops the client (which records what returns) instead of killing the workers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _local_worker_plugin(distributed):
    class _LocalWorker(distributed.WorkerPlugin):
        """For the worker processes of local:N (ours), also those a nanny restarts: Ctrl-C is the
        client's to handle, and freed memory is kept as in the local pool (batch._keep_freed_memory)."""

        def setup(self, worker) -> None:
            from .batch import _keep_freed_memory
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
            except ValueError:   # not the process's main thread: started ignoring it already
                pass
            _keep_freed_memory()
            # what the worker holds at its start (forked: the client's modules and objects) is left out
            # of garbage collection, as the local pool's workers are (batch.py: gc.freeze before the fork)
            gc.collect()
            gc.freeze()
    return _LocalWorker


_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?)$")


def check_scheduler_address(address: str) -> None:
    """ClusterError (one line: the forms it takes) unless `address` is local:N, tcp://HOST:PORT or
    tls://HOST:PORT (HOST a name, an IPv4 address or an [IPv6] address; PORT 1 to 65535). Checked
    before dask is imported or any connection tried, so that a typo is not reported as a network or
    TLS failure."""
    if address.startswith("local:"):
        _parse_local(address)
        return
    scheme, separator, rest = address.partition("://")
    host, colon, port = rest.rpartition(":")
    if (separator and scheme in ("tcp", "tls") and colon and _HOST.match(host) and port.isdigit()
            and 1 <= int(port) <= 65535):
        if host.startswith("["):
            try:
                ipaddress.IPv6Address(host[1:-1])
            except ValueError:
                pass
            else:
                return
        else:
            return
    raise ClusterError(f"--scheduler {address!r} is not a scheduler address: give tcp://HOST:PORT or "
                       "tls://HOST:PORT (e.g. tls://10.0.0.5:8786) or local:N (N worker processes here)")


def _parse_local(address: str) -> int | None:
    if not address.startswith("local:"):
        return None
    try:
        workers = int(address[len("local:"):])
    except ValueError:
        workers = 0
    if workers < 1:
        raise ClusterError(f"--scheduler {address}: local:N takes a number of workers of 1 or more (local:2)")
    return workers


def _is_loopback(address: str) -> bool:
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse_remote_workers(workers: dict) -> None:
    """Without TLS, every worker must be on this machine too: a scheduler on the loopback with a worker
    elsewhere would pass the key to that worker in the clear. `workers`: scheduler_info()["workers"]."""
    remote = sorted(address for address in workers if not _is_loopback(address))
    if remote:
        raise ClusterError(f"the cluster has workers on other machines ({len(remote)}, e.g. {remote[0]}) and no "
                           "TLS: the key would cross the network unencrypted; give --tls-ca-file, --tls-cert "
                           "and --tls-key and a cluster that speaks TLS")


def _security(address: str, tls_ca_file, tls_cert, tls_key):
    """(address, Security) for dask: TLS with the given files, or with dask's own configuration
    (distributed.comm.tls.*); a scheduler on another machine without TLS is refused, because the
    key would cross the network in the clear."""
    distributed = _distributed()
    given = [f for f in (tls_ca_file, tls_cert, tls_key) if f]
    if given:
        if len(given) != 3:
            raise ClusterError("TLS needs all three of --tls-ca-file, --tls-cert and --tls-key")
        for path in given:
            if not Path(path).is_file():
                raise ClusterError(f"TLS file {path} does not exist: check the path")
        security = distributed.Security(tls_ca_file=str(tls_ca_file), tls_client_cert=str(tls_cert),
                                        tls_client_key=str(tls_key), require_encryption=True)
    else:
        security = distributed.Security()   # dask's configuration: distributed.comm.tls.*
    if security.require_encryption or security.tls_client_cert:
        if address.startswith("tcp://"):
            address = "tls://" + address[len("tcp://"):]
        return address, security
    if not _is_loopback(address):
        raise ClusterError(f"--scheduler {address} is not on this machine: the key would cross the network "
                           "unencrypted; give --tls-ca-file, --tls-cert and --tls-key (or dask's "
                           "distributed.comm.tls settings) and a scheduler that speaks TLS")
    return address, security


class DaskCluster:
    """A connection to a Dask cluster, or a LocalCluster of N worker processes (`local:N`).

    Use as a context manager; `check` before `run`. ClusterError for what cannot work (dask
    missing, no scheduler at the address, no workers, a destination the workers cannot write
    or that is not the storage this machine sees, versions that differ)."""

    def __init__(self, address: str, *, tls_ca_file=None, tls_cert=None, tls_key=None,
                 connect_seconds: float = 30):
        check_scheduler_address(address)   # before anything is tried: a typo is said as one
        self.address = address
        self.local_workers = _parse_local(address)
        self.tls = (tls_ca_file, tls_cert, tls_key)
        self.connect_seconds = connect_seconds
        self.cluster = self.client = None
        self.checked = None
        self.lost = 0          # files whose task the cluster gave up on ("worker died")
        self.lost_workers = 0  # workers of the last run's start gone at its end: they may have left partial files

    def __enter__(self) -> "DaskCluster":
        distributed = _distributed()
        try:
            if self.local_workers is not None:
                # one thread per process: the engine is pure Python, threads would share one core
                import dask
                # Forked workers start with the library already imported (0.8 s for two here, against
                # 3.5 s to spawn them and 1.6 s more to import the engine in each); not once this process
                # has loaded onnxruntime, whose thread pools do not survive a fork (as in batch.py).
                from . import pipeline  # noqa: F401  (imported before the fork, for the workers)
                method = "fork" if hasattr(os, "fork") and "onnxruntime" not in sys.modules else "spawn"
                with _sigint_ignored(), dask.config.set({"distributed.worker.multiprocessing-method": method,
                                                         **LOCAL_CONFIG}):
                    self.cluster = distributed.LocalCluster(
                        n_workers=self.local_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address=None, silence_logs=logging.ERROR)
                self.client = distributed.Client(self.cluster, timeout=self.connect_seconds)
                self.client.register_plugin(_local_worker_plugin(distributed)(), name="dicom-deidentify-local")
            else:
                address, security = _security(self.address, *self.tls)
                self.client = distributed.Client(address, security=security, timeout=self.connect_seconds)
                self.client.wait_for_workers(1, timeout=self.connect_seconds)
                if not (security.require_encryption or security.tls_client_cert):
                    _refuse_remote_workers(self.client.scheduler_info().get("workers", {}))
            # (the same name each time: registered again, it replaces itself; it stays for the workers after us)
            self.client.register_plugin(_key_plugin(distributed)(), name="dicom-deidentify-key-lifetime")
        except ClusterError:
            self.close()
            raise
        except (OSError, TimeoutError) as error:
            self.close()
            raise ClusterError(f"--scheduler {self.address}: cannot connect ({type(error).__name__}): check the "
                               "address and that the scheduler runs, with at least one worker") from error
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the dask client and, for local workers, the LocalCluster; errors while closing a lost
        connection are logged at debug level and ignored. Safe to call twice."""
        for part in (self.client, self.cluster):
            if part is not None:
                try:
                    part.close()
                except Exception:   # closing after a lost connection: nothing left to release
                    log.debug("closing the cluster connection failed", exc_info=True)
        self.client = self.cluster = None

    def _worker_ids(self) -> set:
        """(address, process id) of every worker: a worker restarted at the same address is another."""
        return set(self.client.run(os.getpid, on_error="ignore").items())

    def threads(self) -> int:
        """The number of worker threads the cluster offers (dask distributed Client.nthreads(), summed), at least 1."""
        return max(1, sum(self.client.nthreads().values()))

    def check(self, inputs: list, output: Path | None) -> None:
        """Every worker sees every input and can write into `output` (None: nothing is written), the
        probe files they write are visible here (the same storage), and they run this version of
        the package and of pydicom (the same output bytes). ClusterError naming what is not so."""
        import pydicom

        from . import __version__
        asked = ([str(i) for i in inputs], str(output) if output else None)
        if asked == self.checked:
            return   # the command line checks before the key is made; the run does not ask twice
        token = secrets.token_hex(8)
        answers = self.client.run(_probe, [os.path.abspath(i) for i in inputs], str(output) if output else None,
                                  token)
        if not answers:
            raise ClusterError(f"--scheduler {self.address}: the cluster has no workers")
        try:
            for worker, answer in answers.items():
                if (answer["version"], answer["pydicom"]) != (__version__, pydicom.__version__):
                    raise ClusterError(
                        f"worker {worker} runs slicer-deidentify {answer['version']} with pydicom {answer['pydicom']}, "
                        f"this machine {__version__} with {pydicom.__version__}: install the same versions, or the "
                        "outputs would differ")
                if answer["missing"]:
                    raise ClusterError(f"worker {worker} ({answer['host']}) cannot see {len(answer['missing'])} of "
                                       "the inputs: inputs must be on storage every worker reaches, at the same path")
                if output is None:
                    continue
                if answer["error"]:
                    raise ClusterError(f"worker {worker} ({answer['host']}) cannot write into {output} "
                                       f"({answer['error']}): the destination must be on storage every worker "
                                       "can write, at the same path")
                if not (output / answer["probe"]).is_file():
                    raise ClusterError(f"worker {worker} ({answer['host']}) writes {output} on other storage than "
                                       "this machine sees: the destination must be on shared storage, at the same "
                                       "path")
        finally:
            if output is not None:
                for path in output.glob(f"{PROBE_PREFIX}{token}-*"):
                    path.unlink(missing_ok=True)
                self.client.run(_remove_probes, str(output), token, on_error="ignore")
        self.checked = asked

    def run(self, files: list, options, key: bytes, output: Path | None, dry_run: bool, limits,
            samples: int, record: Callable[[FileResult], None], cancel=None) -> None:
        """deidentify_file for every file on the workers; record(result) here for each, as their tasks
        finish (a callback, not a generator: a Ctrl-C while a result is recorded is caught here too).

        At most IN_FLIGHT_PER_THREAD tasks per worker thread are submitted at a time, so the
        client holds a bounded number of results whatever the archive's size. Once `cancel`
        is set (or on KeyboardInterrupt), no task is submitted; those under way return and are
        recorded (for up to STOP_SECONDS), then KeyboardInterrupt is raised again."""
        distributed = _distributed()
        client = self.client
        threads = self.threads()
        per_task = unit_size(len(files), threads)
        tasks = _tasks(files, per_task, output, dry_run, limits, samples)
        workers = self._worker_ids()
        self.lost = self.lost_workers = 0
        # The secret goes with each task (a few hundred bytes), not scattered once: a scattered copy
        # can be lost with a worker, and every task after it failed ("lost dependencies") where now
        # the scheduler simply gives the lost worker's task to another.
        secret = _Secret(options, key)
        in_flight: dict = {}   # task key -> (future, _Task)
        pending = distributed.as_completed()
        numbers = itertools.count()

        def submit() -> bool:
            task = next(tasks, None)
            if task is None:
                return False
            future = client.submit(deidentify_task, secret, task, key=_task_key(secret.run, next(numbers)), pure=False)
            in_flight[future.key] = (future, task)
            pending.add(future)
            return True

        def outcome(future) -> list:
            future, task = in_flight[future.key]   # dropped once its results are here, not before
            try:
                results = future.result()
            except Exception as error:   # KilledWorker: the scheduler gave up after allowed-failures
                self.lost += len(task.sources)
                log.warning("the cluster lost a task of %d files (%s)", len(task.sources), type(error).__name__)
                results = [FileResult(source, status=FAILED,
                                      reason=f"worker died (the cluster lost the worker running it: "
                                             f"{type(error).__name__})") for source in task.sources]
            for result, source in zip(results, task.given):   # as the walk named it, as a local run records it
                result.source = source
            in_flight.pop(future.key)
            future.release()   # its results are the caller's now: the cluster forgets them
            return results

        unrecorded: collections.deque = collections.deque()   # back from a task, not yet recorded

        def record_all() -> None:
            while unrecorded:   # at most once: a result whose recording a Ctrl-C broke is not recorded again
                record(unrecorded.popleft())

        # A first Ctrl-C (in the main thread, with Python's own handler) only sets `stopped`: no
        # KeyboardInterrupt lands between submitting a task and noting it, or between a task's results
        # arriving and being recorded; the run goes on as cancelled and raises it at the end. A
        # second Ctrl-C stops at once: what is back is recorded, the rest is not waited for.
        stopped = threading.Event()
        previous = None

        def on_sigint(signum, frame):
            if stopped.is_set():
                raise KeyboardInterrupt
            stopped.set()
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            previous = signal.signal(signal.SIGINT, on_sigint)
        interrupted = False
        try:
            try:
                for _ in range(threads * IN_FLIGHT_PER_THREAD):
                    if not submit():
                        break
                for future in pending:   # as they finish; a cancel stops new tasks, those under way finish
                    unrecorded.extend(outcome(future))
                    record_all()
                    if not (stopped.is_set() or (cancel is not None and cancel.is_set())):
                        submit()
            except KeyboardInterrupt:   # what is back is recorded
                interrupted = True
                if not stopped.is_set():   # Ctrl-C without our handler: the tasks under way may return first
                    try:
                        distributed.wait([future for future, _ in in_flight.values()], timeout=STOP_SECONDS)
                    except Exception:   # not all back in time, or some lost: those that are back are recorded
                        pass
                for future in [future for future, _ in in_flight.values() if future.done()]:
                    unrecorded.extend(outcome(future))
                record_all()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            for future, _ in in_flight.values():   # not started, or not back in time: never recorded
                future.cancel()
            try:
                client.run(_forget, secret.run, on_error="ignore")
                self.lost_workers = len(workers - self._worker_ids())
            except Exception:   # the scheduler is gone: count every worker as lost
                self.lost_workers = len(workers)
        if interrupted or stopped.is_set():
            raise KeyboardInterrupt


def _tasks(files: list, per_task: int, output, dry_run, limits, samples) -> Iterator[_Task]:
    """One task per work unit (work_units.plan_units: files of one series, in the walk's order, at
    most `per_task`); the first tasks keep `samples` before/after changes in all."""
    destination = str(output) if output is not None else None
    for unit in plan_units(files, per_task):
        batch = [str(source) for source in unit]
        yield _Task([os.path.abspath(s) for s in batch], destination, dry_run, limits, max(0, samples), batch)
        samples -= len(batch)
