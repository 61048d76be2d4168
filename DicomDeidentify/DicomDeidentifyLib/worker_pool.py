"""Worker processes that may die: each holds one item at a time, so a death costs that item alone.

multiprocessing.Pool loses the task of a worker that is killed (the out-of-memory killer
sends SIGKILL) and waits for it forever; concurrent.futures.ProcessPoolExecutor marks every
pending task broken (BrokenProcessPool) without saying which one the dead worker held. Here
the parent hands each worker one item over its own pipe and waits on the pipes and the
process sentinels together (multiprocessing.connection.wait), so it always knows what a dead
worker held: that item gets the caller's verdict and a new worker takes the dead one's place.
"""
from __future__ import annotations

import collections
import contextlib
import os
import signal
from multiprocessing.connection import wait
from typing import Any, Callable, Iterable, Iterator

POLL_SECONDS = 0.2       # how often a wait looks at the cancel event
STOP_SECONDS = 10        # a worker asked to stop that does not is terminated


@contextlib.contextmanager
def _sigint_blocked():
    """SIGINT held back while a worker is forked: the worker ignores it before unblocking it, so
    Ctrl-C in the terminal (sent to the whole process group) never shows a worker's traceback.
    The parent gets a pending Ctrl-C as KeyboardInterrupt once it is unblocked."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _serve(connection, initializer, initargs, work) -> None:
    """A worker: one item in, one result out, until told to stop or the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            item = connection.recv()
        except (EOFError, OSError):
            return
        if item is None:
            return
        connection.send(work(item))


class _Worker:
    def __init__(self, context, initializer, initargs, work):
        self.connection, child = context.Pipe(duplex=True)
        self.process = context.Process(target=_serve, args=(child, initializer, initargs, work), daemon=True)
        with _sigint_blocked():
            self.process.start()
        child.close()
        self.item: Any = None
        self.busy = False

    def give(self, item) -> bool:
        try:
            self.connection.send(item)
        except OSError:   # died before it got the item
            return False
        self.item, self.busy = item, True
        return True

    def close(self) -> None:
        self.connection.close()
        self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def run_unordered(items: Iterable, work: Callable, *, jobs: int, context, initializer=None, initargs=(),
                  died: Callable[[Any, int | None], Any], cancel=None,
                  retry: Callable[[Any], list | None] | None = None,
                  first_wait: Callable[[], None] | None = None) -> Iterator:
    """work(item) for each item in `jobs` worker processes, results in the order they finish.

    `work`, `initializer` run in the workers (with the fork context they may be closures). A
    worker that dies holding an item yields died(item, exitcode) instead (exitcode -9: SIGKILL),
    and a new worker is started if items remain; with `retry`, a dead worker's item for which
    retry(item) gives a list is replaced by the items of that list (handed out first) instead. Once `cancel` (a threading.Event) is set, no
    new item is handed out; the items under way finish and are yielded. If the caller stops
    iterating (or an exception, KeyboardInterrupt included, comes through), the workers are
    terminated at once: an item under way may leave a partial output behind, for the caller
    to remove. `first_wait()`, if given, is called once, the first time this process waits with every
    worker holding an item (or every item handed out): work of its own that then overlaps theirs. It
    must not raise.
    """
    queue = iter(items)
    returned: collections.deque = collections.deque()   # items a worker died before receiving
    workers: list = []
    finished = False

    def next_item():
        if returned:
            return True, returned.popleft()
        for item in queue:
            return True, item
        return False, None

    def start():
        workers.append(_Worker(context, initializer, initargs, work))

    try:
        for _ in range(max(1, jobs)):
            start()
        exhausted = False
        while True:
            stopping = exhausted or (cancel is not None and cancel.is_set())
            for worker in list(workers):
                if worker.busy or stopping:
                    continue
                more, item = next_item()
                if not more:
                    exhausted = stopping = True
                    break
                if not worker.give(item):
                    returned.append(item)
                    workers.remove(worker)
                    worker.close()
                    start()
            busy = [w for w in workers if w.busy]
            if not busy:
                if stopping:
                    break
                continue
            if first_wait is not None:
                first_wait, waiting = None, first_wait
                waiting()
            ready = set(wait([w.connection for w in busy] + [w.process.sentinel for w in busy], POLL_SECONDS))
            for worker in busy:
                if worker.connection not in ready and worker.process.sentinel not in ready:
                    continue
                try:
                    result = worker.connection.recv() if worker.connection.poll() else _NOTHING
                except (EOFError, OSError):
                    result = _NOTHING
                if result is not _NOTHING:
                    worker.item, worker.busy = None, False
                    yield result
                    continue
                worker.process.join(STOP_SECONDS)   # the pipe closed: the process is ending
                if worker.process.is_alive():
                    continue
                item, code = worker.item, worker.process.exitcode
                workers.remove(worker)
                worker.close()
                again = retry(item) if retry is not None else None
                if again:
                    returned.extend(again)
                    exhausted = False
                if not exhausted and not (cancel is not None and cancel.is_set()):
                    start()   # in the dead one's place
                if not again:
                    yield died(item, code)
        finished = True
    finally:
        for worker in workers:
            if finished:
                with contextlib.suppress(OSError):
                    worker.connection.send(None)
            else:
                worker.process.terminate()
        for worker in workers:
            worker.close()


_NOTHING = object()


def choose_jobs(usable_cores: int, load_average: float) -> int:
    """How many worker processes to start: the usable cores not already busy (`load_average`, the
    last minute's, os.getloadavg()[0], counts the processes running or waiting), rounded to the
    nearest, never more than `usable_cores`, and one (no pool: files done in this process) when the
    machine is busy. 1 or more."""
    idle = max(0.0, usable_cores - max(0.0, load_average))
    return max(1, min(usable_cores, int(idle + 0.5)))


def machine_jobs() -> int:
    """choose_jobs for this machine and its load now: the cores this process may run on
    (os.sched_getaffinity, else os.cpu_count) and os.getloadavg (0 where unknown)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    return choose_jobs(cores, load)
