"""The run summary's per-file results kept on disk instead of in memory (issue 19: memory flat in
the number of files).

A ResultSpool is an anonymous temporary file (tempfile.TemporaryFile: no name in any folder, gone
when it is closed or the process ends) in the report folder, which is owner-only and lies apart
from every destination. Each slimmed FileResult (batch.deidentify_paths has dropped original values
and pictures) is appended as one pickle record; reading back yields equal FileResult objects, in the
order they were recorded. Only counters stay in memory. Pickle, not JSON: the file is this process's
own, never read by anything else, and a result's values (tuples, numbers) come back as they were.
"""
from __future__ import annotations

import collections
import io
import os
import pickle
import tempfile
from pathlib import Path
from typing import Iterator

from .results import ALREADY_PRESENT, SKIPPED


class ResultSpool:
    """A list-like store of FileResult: append, len, iteration (and indexing, by reading back).
    `folder`: where the anonymous file lives (the run's report folder, owner-only)."""

    def __init__(self, folder):
        self._file = tempfile.TemporaryFile(dir=str(Path(folder)))
        self._length = 0
        self.statuses: collections.Counter = collections.Counter()   # status -> files
        self.review_items = 0
        self.already_present = 0   # skipped: an earlier run wrote the output (results.ALREADY_PRESENT)

    def append(self, result) -> None:
        """Add one FileResult at the end (pickled to the spool's temporary file) and update the counts."""
        pickle.dump(result, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._length += 1
        self.statuses[result.status] += 1
        self.review_items += len(result.review)
        self.already_present += result.status == SKIPPED and result.reason.startswith(ALREADY_PRESENT)

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator:
        """The results in the order they were recorded, read back one at a time."""
        self._file.flush()
        fd, offset, count = self._file.fileno(), 0, self._length
        reader = io.BufferedReader(_PositionalReader(fd), buffer_size=1 << 16)   # leaves the writer's offset alone
        for _ in range(count):
            yield pickle.load(reader)

    def __getitem__(self, index: int):
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        for number, result in enumerate(self):
            if number == index:
                return result

    def __add__(self, other) -> list:
        return list(self) + list(other)

    def close(self) -> None:
        """Close (and so delete) the spool's temporary file; the results can no longer be read."""
        self._file.close()


class _PositionalReader(io.RawIOBase):
    """Reads a file descriptor from its start with os.pread, so that the spool's own offset (where the
    next record is appended) does not move."""

    def __init__(self, fd: int):
        self._fd, self._offset = fd, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = os.pread(self._fd, len(buffer), self._offset)
        buffer[:len(data)] = data
        self._offset += len(data)
        return len(data)
