"""The linkage store: what key holders need to map pseudonyms back, kept beside the key.

A real SQLite database (WAL mode, one transaction per batch of results, a long
busy timeout so that two runs into the same side database wait for each other
instead of failing), created owner-only. With linkage off it still records
runs, files and pseudonyms, but no original value: no name, ID, birth date,
UID or input path, only keyed hashes that cannot be reversed.

Consistency does not depend on this store: pseudonyms, UIDs and date offsets
are functions of the key. The store records them, and their originals.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .keys import make_private_dir
from .results import FileResult

LINKAGE_FILE_NAME = "linkage.sqlite"
BUSY_TIMEOUT_MS = 120_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started REAL, finished REAL, destination TEXT, side_database INTEGER,
    linkage INTEGER, profile TEXT, inputs TEXT, totals TEXT);
CREATE TABLE IF NOT EXISTS patients (
    identity_hash TEXT PRIMARY KEY, pseudonym_id TEXT, pseudonym_name TEXT, date_offset_days INTEGER,
    original_patient_id TEXT, original_issuer TEXT, original_name TEXT, original_birth_date TEXT,
    first_seen REAL);
CREATE TABLE IF NOT EXISTS uids (original TEXT PRIMARY KEY, new TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS uids_new ON uids(new);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, run_id TEXT, source TEXT, output TEXT, status TEXT, reason TEXT,
    identity_hash TEXT, sop_instance_uid TEXT, time REAL);
CREATE INDEX IF NOT EXISTS files_output ON files(output);
CREATE TABLE IF NOT EXISTS destination_uids (destination TEXT, original TEXT, PRIMARY KEY (destination, original));
CREATE TABLE IF NOT EXISTS destination_patients (destination TEXT, identity_hash TEXT,
    PRIMARY KEY (destination, identity_hash));
CREATE TABLE IF NOT EXISTS destination_outputs (destination TEXT, input_tag TEXT, output TEXT,
    PRIMARY KEY (destination, input_tag));
"""


def linkage_path(key_file: Path) -> Path:
    """The linkage store's path for a key file: linkage.sqlite in the key's folder."""
    return Path(key_file).parent / LINKAGE_FILE_NAME


class LinkageStore:
    """The SQLite linkage store at `path` (sqlite3, WAL journal, SCHEMA), opened or created owner-only
    (0600; what is missing of its folder is created 0700, keys.make_private_dir). With `keep_originals`
    False, no original value is written: files get no source path and only the kind of their reason,
    patients and UIDs no originals. Raises keys.UnsafeFolderError when the folder exists and others can
    write to it, sqlite3.Error when the database cannot be opened or is locked past BUSY_TIMEOUT_MS
    (120 s)."""
    def __init__(self, path: Path, keep_originals: bool = True):
        self.path = Path(path)
        self.keep_originals = keep_originals
        make_private_dir(self.path.parent)   # what is missing of it: 0700, as the key's folder
        created = not self.path.exists()
        previous = os.umask(0o077)   # the database and its -wal and -shm files: owner-only
        try:
            self.db = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self._set_up()
        finally:
            os.umask(previous)
        if created:
            os.chmod(self.path, 0o600)   # ours: exactly owner-only (an existing store keeps its mode)
        self._pending: list = []

    def _set_up(self) -> None:
        """WAL mode and the schema. Two runs creating the store at the same moment race for the
        switch to WAL, which SQLite does not queue behind its busy timeout: retry instead."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                if self.db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = NORMAL")
                with self.transaction():
                    for statement in _statements(SCHEMA):
                        self.db.execute(statement)
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @contextmanager
    def transaction(self):
        """A context manager: one write transaction (BEGIN IMMEDIATE, so concurrent runs queue for the
        lock), committed at the end of the block, rolled back if it raises."""
        self.db.execute("BEGIN IMMEDIATE")   # take the write lock now: concurrent runs queue here
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        """Write what add() queued, then close the database."""
        self.flush()
        self.db.close()

    # -- recording a run --------------------------------------------------------------------
    def start_run(self, run_id: str, destination: Path, side_database: bool, profile: dict, inputs: list) -> None:
        """Record a run's start: `run_id` (str), its `destination` folder, whether it is a `side_database`,
        the `profile` (DeidentifyOptions.to_dict()) and the `inputs` (paths; stored only with keep_originals).
        Sets the run the following add() calls belong to."""
        with self.transaction():
            self.db.execute("INSERT INTO runs (run_id, started, destination, side_database, linkage, profile, inputs)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (run_id, time.time(), str(destination), int(side_database), int(self.keep_originals),
                             json.dumps(profile), json.dumps([str(i) for i in inputs]) if self.keep_originals else "[]"))
        self.run_id, self.destination = run_id, str(destination)

    def add(self, result: FileResult) -> None:
        """Queue one file's outcome; written in batches (one transaction each). What is needed is
        copied now: the caller may slim the result down once this returns."""
        self._pending.append(_Entry(result.source, result.output, result.status, result.reason,
                                    dict(result.patient or {}), dict(result.uid_map), result.input_tag))
        if len(self._pending) >= 200:
            self.flush()

    def flush(self) -> None:
        """Write every result add() queued, in one transaction."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        with self.transaction():
            for result in pending:
                self._record(result)

    def finish_run(self, totals: dict) -> None:
        """Write the queued results and record the run's end time and `totals` (status -> count, stored as JSON)."""
        self.flush()
        with self.transaction():
            self.db.execute("UPDATE runs SET finished = ?, totals = ? WHERE run_id = ?",
                            (time.time(), json.dumps(totals), self.run_id))

    def _record(self, result: "_Entry") -> None:
        patient = result.patient or {}
        identity = patient.get("identity_hash", "")
        if identity:
            original = patient.get("original", {}) if self.keep_originals else {}
            self.db.execute(
                "INSERT INTO patients VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(identity_hash) DO NOTHING",
                (identity, patient.get("pseudonym_id", ""), patient.get("pseudonym_name", ""),
                 patient.get("date_offset_days", 0), original.get("patient_id"), original.get("issuer"),
                 original.get("name"), original.get("birth_date"), time.time()))
            self.db.execute("INSERT OR IGNORE INTO destination_patients VALUES (?, ?)", (self.destination, identity))
        if self.keep_originals:
            for old, new in result.uid_map.items():
                self.db.execute("INSERT OR IGNORE INTO uids VALUES (?, ?)", (old, new))
                self.db.execute("INSERT OR IGNORE INTO destination_uids VALUES (?, ?)", (self.destination, old))
        if result.input_tag and result.output and result.status in ("written", "skipped"):
            # the destination's one version of this instance (what a later run or export replaces)
            self.db.execute("INSERT INTO destination_outputs VALUES (?, ?, ?) ON CONFLICT(destination, input_tag) "
                            "DO UPDATE SET output = excluded.output", (self.destination, result.input_tag, result.output))
        sop = Path(result.output).name.split(".")[0] if result.output else ""
        self.db.execute("INSERT INTO files (run_id, source, output, status, reason, identity_hash, sop_instance_uid,"
                        " time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (self.run_id, result.source if self.keep_originals else "", result.output,
                         result.status, result.reason if self.keep_originals else _reason_kind(result.reason),
                         identity, sop, time.time()))

    def move_output(self, old: Path, new: Path) -> None:
        """A written file moved (held back for review, then released): its rows follow it."""
        with self.transaction():
            self.db.execute("UPDATE files SET output = ? WHERE output = ?", (str(new), str(old)))
            self.db.execute("UPDATE destination_outputs SET output = ? WHERE output = ?", (str(new), str(old)))

    def earlier_outputs(self, destination: Path) -> dict:
        """input tag (pipeline.instance_tag: a keyed digest of an instance; in stores written before
        instances were told apart, of an input's bytes) -> the output that runs with this key wrote for
        it into `destination` (or held back from it), as last recorded."""
        rows = self.db.execute("SELECT input_tag, output FROM destination_outputs WHERE destination = ?",
                               (str(destination),))
        return dict(rows.fetchall())

    # -- key holders' questions -------------------------------------------------------------
    def lookup(self, term: str) -> list:
        """Original identity (and UID) behind a pseudonymous ID, a pseudonym name or a new UID."""
        term = term.strip()
        found = []
        rows = self.db.execute(
            "SELECT pseudonym_id, pseudonym_name, date_offset_days, original_patient_id, original_issuer, "
            "original_name, original_birth_date FROM patients WHERE pseudonym_id = ? OR pseudonym_name = ? "
            "OR identity_hash = ?", (term, term, term)).fetchall()
        for row in rows:
            found.append(dict(zip(("pseudonym_id", "pseudonym_name", "date_offset_days", "patient_id", "issuer",
                                   "name", "birth_date"), row)))
        for original, in self.db.execute("SELECT original FROM uids WHERE new = ?", (term,)).fetchall():
            found.append({"new_uid": term, "original_uid": original})
        return found

    def mapping(self, destination: Path) -> tuple:
        """([(original UID, new UID)], [(original Patient ID, pseudonymous ID)]) of a destination's runs."""
        destination = str(destination)
        uids = self.db.execute("SELECT u.original, u.new FROM uids u JOIN destination_uids d ON d.original = u.original"
                               " WHERE d.destination = ? ORDER BY u.original", (destination,)).fetchall()
        patients = self.db.execute(
            "SELECT p.original_patient_id, p.pseudonym_id FROM patients p JOIN destination_patients d ON "
            "d.identity_hash = p.identity_hash WHERE d.destination = ? AND p.original_patient_id IS NOT NULL "
            "ORDER BY p.original_patient_id",
            (destination,)).fetchall()
        return uids, patients

    def recorded_files(self, destination=None) -> dict:
        """input path (as recorded) -> (status, output, reason) of its latest run with this key (with
        `destination`, a folder: its latest run into that folder, so an earlier destination of the same
        inputs pairs too); empty with linkage off (no input path is recorded then)."""
        if destination is None:
            rows = self.db.execute("SELECT source, status, output, reason FROM files WHERE source != '' "
                                   "ORDER BY time, id")
        else:   # runs record their destination resolved (runs.deidentify_folder)
            rows = self.db.execute("SELECT f.source, f.status, f.output, f.reason FROM files f JOIN runs r ON "
                                   "r.run_id = f.run_id WHERE f.source != '' AND r.destination = ? "
                                   "ORDER BY f.time, f.id", (os.path.realpath(destination),))
        return {source: (status, output or "", reason or "") for source, status, output, reason in rows}

    def destinations(self) -> list:
        """The destination folders (paths as recorded) of the runs in this store that made one, oldest
        first: a side database (marked when its run starts), or an --output folder a file was written
        into. A run that wrote nothing (no input file, every file failed, stopped before its first) is
        no destination: what it named may be anything (a folder of the person's own, later a report's)."""
        return [row[0] for row in self.db.execute(
            "SELECT destination FROM runs r WHERE destination IS NOT NULL AND (side_database = 1 OR EXISTS "
            "(SELECT 1 FROM files f WHERE f.run_id = r.run_id AND f.output IS NOT NULL AND f.output != '')) "
            "GROUP BY destination ORDER BY MIN(started)")]

    def inputs(self) -> list:
        """The input paths (files or folders, as recorded) of every run in this store; none of a run with
        linkage off (its inputs are not recorded)."""
        found = {}
        for (text,) in self.db.execute("SELECT inputs FROM runs WHERE inputs IS NOT NULL ORDER BY started"):
            try:
                found.update(dict.fromkeys(json.loads(text)))
            except ValueError:
                continue
        return list(found)

    def holds_originals(self) -> bool:
        """Whether any run recorded here kept original values (ran with linkage on)."""
        return self.db.execute("SELECT COUNT(*) FROM runs WHERE linkage = 1").fetchone()[0] > 0


@dataclass
class _Entry:
    source: str
    output: str
    status: str
    reason: str
    patient: dict
    uid_map: dict
    input_tag: str = ""


def _statements(script: str) -> list:
    return [s.strip() for s in script.split(";") if s.strip()]


def _reason_kind(reason: str) -> str:
    """A reason without the file name or anything taken from it (linkage off)."""
    return reason.split(":")[0] if reason else ""
