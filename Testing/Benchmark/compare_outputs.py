#!/usr/bin/env python3
"""Byte-identity of the worker's per-file path between two checkouts (a speed change must not change outputs).

De-identifies the benchmark's CT files (benchmark_deidentify.make_ct_series) and every pydicom test
file (pydicom.data.get_testdata_files()) with pipeline.deidentify_file (basic profile, key b"k"*32,
the output check on), once with each checkout's library on its own PYTHONPATH (a subprocess each),
and compares, per input: status, reason, the output's name (the library-source hash in its tag fixed) and its bytes (SHA-256).

With --options '{"dates": "modified", "identity": "fixed", ...}' (DeidentifyOptions fields as JSON;
enum fields by value), another profile than the basic one is compared.

Usage (from the worktree root):
  /work/main/.venv/bin/python Testing/Benchmark/compare_outputs.py /work/main [--ct 40] [--options JSON]
Prints the number of inputs, of differences, and the first differences; exit status 1 if any.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _options(fields: dict):
    from DicomDeidentifyLib.options import DateMode, DeidentifyOptions, IdentityMode
    kinds = {"dates": DateMode, "identity": IdentityMode}
    return DeidentifyOptions(**{name: kinds[name](value) if name in kinds else value for name, value in fields.items()})


def _manifest(inputs: list, out: Path, fields: dict | None = None) -> dict:
    from DicomDeidentifyLib import output_fingerprint, pipeline
    from DicomDeidentifyLib.bounded_read import ReadLimits
    from DicomDeidentifyLib.engine import Deidentifier
    from DicomDeidentifyLib.options import DeidentifyOptions
    # the output name's tag includes a hash of the library's own source, which differs by design
    # between two checkouts: fixed here, so that names compare too (the bytes never depend on it)
    output_fingerprint.code_and_tables = lambda: "the same code"
    engine = Deidentifier(_options(fields or {}) if fields else DeidentifyOptions(), b"k" * 32)
    engine.record_changes = False
    found = {}
    for index, source in enumerate(inputs):
        target = out / str(index)
        result = pipeline.deidentify_file(engine, Path(source), target, False, ReadLimits())
        digest = None
        if result.output and Path(result.output).is_file():
            digest = hashlib.sha256(Path(result.output).read_bytes()).hexdigest()
        name = str(Path(result.output).relative_to(target)) if result.output else None
        found[source] = [result.status, result.reason, name, digest]
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", help="the other checkout's root (e.g. /work/main)")
    parser.add_argument("--ct", type=int, default=40, help="benchmark CT files")
    parser.add_argument("--options", default="{}", help="DeidentifyOptions fields as JSON (default: the basic profile)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:   # one checkout's run: inputs from a JSON file, manifest to stdout
        spec = json.loads(Path(args.child).read_text())
        print(json.dumps(_manifest(spec["inputs"], Path(spec["out"]), spec.get("options"))))
        return 0
    import pydicom.data
    sys.path.insert(0, str(HERE))
    from benchmark_deidentify import make_ct_series
    work = Path(tempfile.mkdtemp(prefix="compare-outputs-"))
    try:
        make_ct_series(work / "ct", args.ct)
        inputs = sorted(str(p) for p in (work / "ct").glob("*.dcm")) + sorted(pydicom.data.get_testdata_files())
        manifests = []
        for root in (HERE.parent.parent, Path(args.other).resolve()):
            spec = work / f"spec-{len(manifests)}.json"
            spec.write_text(json.dumps({"inputs": inputs, "out": str(work / f"out-{len(manifests)}"),
                                        "options": json.loads(args.options)}))
            env = dict(os.environ, PYTHONPATH=f"{root}/DicomDeidentify:{root}/SceneScrubber")
            run = subprocess.run([sys.executable, __file__, str(root), "--child", str(spec)], env=env,
                                 capture_output=True, text=True, check=True)
            manifests.append(json.loads(run.stdout.strip().splitlines()[-1]))
        mine, other = manifests
        differ = [source for source in inputs if mine[source] != other[source]]
        written = sum(1 for value in mine.values() if value[3])
        print(f"{len(inputs)} inputs ({args.ct} CT, {len(inputs) - args.ct} pydicom test files), {written} written; "
              f"{len(differ)} differ from {args.other}")
        for source in differ[:20]:
            print(f"  {source}: {mine[source]} vs {other[source]}")
        return 1 if differ else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
