"""dicom-deidentify: the command line, without Slicer.

  dicom-deidentify anonymize INPUT... --output DIR [--key-file F] [options]
  dicom-deidentify demo [--workdir DIR]

Exit status: 0 all files done (skips included), 1 some file failed,
2 a usage or key problem, 130 cancelled with Ctrl-C.
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
import warnings
from pathlib import Path

from .batch import deidentify_paths
from .keys import KeyFileError, load_or_create_key, secrets_home
from .options import DateMode, DeidentifyOptions, IdentityMode
from .report import RunReport
from .results import FAILED, SKIPPED

DEMO_FILES = ["CT_small.dcm", "MR_small.dcm", "rtstruct.dcm", "rtplan.dcm", "rtdose.dcm",
              "JPEG2000.dcm", "emri_small.dcm", "US1_UNCR.dcm", "test-SR.dcm", "MR_truncated.dcm"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dicom-deidentify", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    anonymize = commands.add_parser("anonymize", help="de-identify files and folders (recursively)")
    anonymize.add_argument("inputs", nargs="+", type=Path, help="DICOM files or folders; never modified")
    anonymize.add_argument("--output", type=Path, required=True, help="folder for the de-identified copies")
    add_common_options(anonymize)
    demo = commands.add_parser("demo", help="de-identify sample files shipped with pydicom and show the report")
    demo.add_argument("--workdir", type=Path, default=Path("demo-output"))
    demo.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    return parser


def add_common_options(parser: argparse.ArgumentParser) -> None:
    o = parser.add_argument_group("PS3.15 Table E.1-1 options (default: the basic profile alone)")
    o.add_argument("--retain-safe-private", action="store_true")
    o.add_argument("--retain-uids", action="store_true")
    o.add_argument("--retain-device-identity", action="store_true")
    o.add_argument("--retain-institution-identity", action="store_true")
    o.add_argument("--retain-patient-characteristics", action="store_true")
    o.add_argument("--retain-dates", choices=["full", "modified"], help="retain longitudinal temporal information")
    o.add_argument("--clean-descriptors", action="store_true")
    o.add_argument("--clean-structured-content", action="store_true")
    o.add_argument("--clean-graphics", action="store_true")
    o.add_argument("--clean-pixel-data", action="store_true", help="accepted; not implemented yet, never claimed")
    o.add_argument("--clean-recognizable-visual-features", action="store_true",
                   help="accepted; not implemented yet, never claimed")
    p = parser.add_argument_group("patient identity and private tags")
    p.add_argument("--identity", choices=[m.value for m in IdentityMode],
                   help="pseudonym (default): fantasy name and ID from the key; clear: empty; "
                        "fixed: --patient-name/--patient-id")
    p.add_argument("--keep-sex", action="store_true", help="pseudonyms keep the patient's sex")
    p.add_argument("--patient-name", help="with --identity fixed (default ANONYMOUS)")
    p.add_argument("--patient-id", help="with --identity fixed (default ANONYMOUS)")
    p.add_argument("--extra-safe-private", action="append", default=[], metavar="GGGG,CREATOR,EE",
                   help="another private attribute to keep under --retain-safe-private (repeatable)")
    p.add_argument("--allow-creator-on-higher-level", action="store_true",
                   help="look for a private creator in enclosing data sets too")
    p.add_argument("--skip-deidentified", action="store_true", help="skip files with Patient Identity Removed = YES")
    p.add_argument("--profile", type=Path, help="a profile saved as JSON; flags given here are added to it")
    r = parser.add_argument_group("run")
    r.add_argument("--key-file", type=Path, help=f"pseudonym key (default {secrets_home()}/pseudonym.key)")
    r.add_argument("--create-key", action="store_true", help="create --key-file if it does not exist")
    r.add_argument("--report-dir", type=Path, help="where the run report goes (default: beside the key)")
    r.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: one per core)")
    r.add_argument("--dry-run", action="store_true", help="show what would change; write no DICOM file")
    r.add_argument("--quiet", action="store_true", help="no progress bar")


def options_from_args(args) -> DeidentifyOptions:
    options = (DeidentifyOptions.from_json(args.profile.read_text()) if args.profile else DeidentifyOptions())
    for flag in ("retain_safe_private", "retain_uids", "retain_device_identity", "retain_institution_identity",
                 "retain_patient_characteristics", "clean_descriptors", "clean_structured_content",
                 "clean_graphics", "clean_pixel_data", "clean_recognizable_visual_features",
                 "allow_creator_on_higher_level", "skip_deidentified"):
        if getattr(args, flag):
            setattr(options, flag, True)
    if args.retain_dates:
        options.dates = DateMode(args.retain_dates)
    # A flag changes the profile only when given: a profile file's settings stay otherwise.
    if args.identity:
        options.identity = IdentityMode(args.identity)
    if args.keep_sex:
        options.pseudonym_keeps_sex = True
    if args.patient_name is not None:
        options.fixed_patient_name = args.patient_name
    if args.patient_id is not None:
        options.fixed_patient_id = args.patient_id
    if args.extra_safe_private:
        options.extra_safe_private = tuple(options.extra_safe_private) + tuple(args.extra_safe_private)
        options.__post_init__()
    return options


def run_anonymize(inputs: list, output: Path, options: DeidentifyOptions, key_file: Path | None,
                  create_key: bool, report_dir: Path | None, jobs: int, dry_run: bool, quiet: bool) -> int:
    try:
        key, created = load_or_create_key(key_file, create_key)
    except KeyFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    key_path = Path(key_file) if key_file else secrets_home() / "pseudonym.key"
    if created:
        print(f"Created a new pseudonym key at {key_path} (owner-only). Back it up: the same key gives the "
              "same pseudonyms, UIDs and date shifts in later runs.", file=sys.stderr)
    output = Path(output).resolve()
    for secret in (key_path.resolve(), (report_dir or key_path.parent).resolve()):
        if secret == output or output in secret.parents:
            print(f"error: {secret} is inside the output folder; secrets and reports must live apart "
                  "from what is shared", file=sys.stderr)
            return 2
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    report = RunReport((report_dir or key_path.parent / "reports") / stamp, options, inputs, str(output))
    for name in options.requested_but_not_implemented():
        print(f"warning: --{name.replace('_', '-')} is not implemented yet: pixel data is not examined "
              "and the option is not claimed in the output", file=sys.stderr)
    bars = []   # made on the first file, once the total is known
    started = time.monotonic()

    def progress(done, total, result):
        if quiet:
            return
        if not bars:
            bars.append(_progress_bar(total))
        if bars[0] is not None:
            bars[0].update(1)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # pydicom's per-value warnings would drown the summary
            summary = deidentify_paths(inputs, output, options, key, jobs=jobs,
                                       dry_run=dry_run, progress=progress, on_result=report.add)
    except KeyboardInterrupt:
        print("\ncancelled: no partial file was left; run the same command again to resume", file=sys.stderr)
        return 130
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        for bar in bars:
            if bar is not None:
                bar.close()
    json_path, html_path = report.write(summary)
    print_summary(summary, time.monotonic() - started, output, html_path, json_path, dry_run)
    return 1 if summary.failed else 0


def _progress_bar(total: int):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def print_summary(summary, seconds, output, html_path, json_path, dry_run) -> None:
    totals = summary.totals()
    for result in summary.results:
        if result.status in (FAILED, SKIPPED):
            print(f"{result.status:8} {result.source}: {result.reason}")
    rate = totals["files"] / seconds if seconds > 0 else 0.0
    verb = "would be written" if dry_run else "written"
    print(f"\n{totals['files']} files in {seconds:.1f} s ({rate:.0f} files/s): {totals['written'] + totals['dry-run']} "
          f"{verb}, {totals['skipped']} skipped, {totals['failed']} failed, {totals['review_items']} review items")
    if not dry_run:
        print(f"De-identified files: {output}")
    print(f"Report (key holders only): {html_path}\n                           {json_path}")


def run_demo(workdir: Path, jobs: int) -> int:
    from pydicom.data import get_testdata_file
    sources = []
    for name in DEMO_FILES:
        path = get_testdata_file(name)
        if path:
            sources.append(Path(path))
    workdir = Path(workdir).resolve()
    samples = workdir / "originals"
    samples.mkdir(parents=True, exist_ok=True)
    for path in sources:   # a copy, so the demo's inputs are plain files beside its outputs
        target = samples / path.name
        if not target.exists():
            target.write_bytes(path.read_bytes())
    (samples / "notes.txt").write_text("not a DICOM file: the run skips it and says why\n")
    secrets = workdir / "secrets"
    print(f"Sample inputs: {samples}")
    status = run_anonymize([samples], workdir / "deidentified", DeidentifyOptions(), secrets / "pseudonym.key",
                           True, None, jobs, False, False)
    print("(MR_truncated.dcm is cut off on purpose and notes.txt is not DICOM: both are refused with a reason.)")
    return 0 if status in (0, 1) else status


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        return run_demo(args.workdir, args.jobs)
    try:
        options = options_from_args(args)
    except (ValueError, OSError) as error:
        print(f"error: bad profile: {error}", file=sys.stderr)
        return 2
    return run_anonymize(args.inputs, args.output, options, args.key_file, args.create_key, args.report_dir,
                         args.jobs, args.dry_run, args.quiet)


if __name__ == "__main__":
    sys.exit(main())
