#!/usr/bin/env python3
"""CPU per file in one worker, per stage: where the basic-profile CT case spends its time.

Generates N 512x512 CT files with the benchmark's own generator (benchmark_deidentify.make_ct_series),
then runs the worker's per-file function (pipeline.deidentify_file, as batch._work calls it) on each,
in this one process, with the basic profile and the post-write output check on. Every output is
written into a fresh folder. The stages are timed in CPU time of this process
(time.process_time_ns: robust on a shared machine, unlike wall-clock) by wrapping the functions
deidentify_file calls:

  read    check_input + read_source (the structure scan, element building, the input's digest)
  digest  of which: the SHA-256 of the input (hashlib.sha256 inside read_source)
  engine  the rest of deidentify_file: pixel plan, Deidentifier.deidentify, the new file meta, the
          output name and its keyed digests, the "already present" test
  write   write_dataset without its check (pieces, temporary file, writev, rename)
  check   output_check.check_output (read back with pydicom's parser, search)
  total   the whole of deidentify_file

The first --warm files are run untimed (imports, caches). With --py-spy, the timed loop is
left to py-spy instead:
`/work/main/.venv/bin/py-spy record -o profile.svg -- python profile_worker.py --files 2000 --py-spy`.

Usage (from the worktree root):
  PYTHONPATH=$PWD/DicomDeidentify:$PWD/SceneScrubber /work/main/.venv/bin/python \\
      Testing/Benchmark/profile_worker.py [--files 300] [--warm 30] [--rounds 3] [--cprofile]
Prints, per round, CPU ms per file per stage, and the median over rounds.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmark_deidentify import make_ct_series  # noqa: E402  (the benchmark's generator)

from DicomDeidentifyLib import dicom_io, output_check, pipeline  # noqa: E402
from DicomDeidentifyLib.batch import _keep_freed_memory  # noqa: E402
from DicomDeidentifyLib.bounded_read import ReadLimits  # noqa: E402
from DicomDeidentifyLib.engine import Deidentifier  # noqa: E402
from DicomDeidentifyLib.options import DeidentifyOptions  # noqa: E402

STAGES = ("read", "digest", "engine", "write", "check", "total")


class Clock:
    """CPU nanoseconds per stage, summed over the files of a round."""

    def __init__(self):
        self.spent = dict.fromkeys(STAGES, 0)

    def wrap(self, stage: str, function):
        def timed(*args, **kwargs):
            start = time.process_time_ns()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[stage] += time.process_time_ns() - start
        return timed


def instrument(clock: Clock) -> None:
    """Wrap the functions deidentify_file calls (in the modules it looks them up in)."""
    originals = instrument.originals = getattr(instrument, "originals", None) or {
        "check_input": pipeline.check_input, "read_source": pipeline.read_source,
        "check_output": pipeline.check_output, "write_dataset": pipeline.write_dataset,
        "sha256": dicom_io.hashlib.sha256, "deidentify_file": pipeline.deidentify_file}
    pipeline.check_input = clock.wrap("read", originals["check_input"])
    pipeline.read_source = clock.wrap("read", originals["read_source"])
    pipeline.check_output = clock.wrap("check", originals["check_output"])
    write = clock.wrap("write", originals["write_dataset"])

    def write_without_check(dataset, target, layout=None, check=None):
        # the check's time is its own stage: taken out of write's
        before = clock.spent["check"]
        write(dataset, target, layout, check)
        clock.spent["write"] -= clock.spent["check"] - before
    pipeline.write_dataset = write_without_check
    dicom_io.hashlib.sha256 = clock.wrap("digest", originals["sha256"])


class _Hashlib:
    """dicom_io's view of hashlib, so that wrapping sha256 touches no other module."""

    def __init__(self, module):
        self._module = module
        self.sha256 = module.sha256

    def __getattr__(self, name):
        return getattr(self._module, name)


def run_round(engine, files: list, out: Path, clock: Clock) -> dict:
    total = clock.wrap("total", instrument.originals["deidentify_file"])
    limits = ReadLimits()
    for path in files:
        result = total(engine, path, out, False, limits)
        assert result.status == "written", (result.status, result.reason)
    spent = dict(clock.spent)
    spent["engine"] = spent["total"] - spent["read"] - spent["write"] - spent["check"]
    return {stage: spent[stage] / len(files) / 1e6 for stage in STAGES}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--warm", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cprofile", action="store_true", help="print the top functions of one more round")
    parser.add_argument("--py-spy", action="store_true", help="run the rounds untimed (for py-spy record)")
    args = parser.parse_args(argv)
    _keep_freed_memory()   # as a worker does
    dicom_io.hashlib = _Hashlib(dicom_io.hashlib)
    work = Path(tempfile.mkdtemp(prefix="profile-worker-"))
    try:
        inputs = work / "in"
        make_ct_series(inputs, args.files + args.warm)
        files = sorted(inputs.glob("*.dcm"))
        engine = Deidentifier(DeidentifyOptions(), b"k" * 32)
        engine.record_changes = False
        warm_out = work / "warm"
        for path in files[:args.warm]:
            pipeline.deidentify_file(engine, path, warm_out, False, ReadLimits())
        files = files[args.warm:]
        if args.py_spy:
            for n in range(args.rounds):
                for path in files:
                    pipeline.deidentify_file(engine, path, work / f"out{n}", False, ReadLimits())
            return 0
        rounds = []
        for n in range(args.rounds):
            clock = Clock()
            instrument(clock)
            rounds.append(run_round(engine, files, work / f"out{n}", clock))
            print(f"round {n + 1}: " + "  ".join(f"{stage} {rounds[-1][stage]:.3f}" for stage in STAGES))
        print(f"median CPU ms per file over {args.rounds} rounds of {len(files)} files: "
              + "  ".join(f"{stage} {statistics.median(r[stage] for r in rounds):.3f}" for stage in STAGES))
        print(f"=> at most {2000 / statistics.median(r['total'] for r in rounds):.0f} files/s on 2 cores "
              "(this stage alone, no pool, no start-up)")
        if args.cprofile:
            for key, original in instrument.originals.items():
                if key != "sha256" and hasattr(pipeline, key):
                    setattr(pipeline, key, original)
            profile = cProfile.Profile()
            profile.enable()
            for path in files:
                pipeline.deidentify_file(engine, path, work / "cprofile", False, ReadLimits())
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
