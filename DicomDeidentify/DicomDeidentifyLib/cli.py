"""dicom-deidentify: the command line, without Slicer.

  dicom-deidentify anonymize INPUT... (--output DIR | --into SIDE_DB) [--key-file F] [options]
  dicom-deidentify lookup PSEUDONYM-or-UID [--into SIDE_DB] [--key-file F]
  dicom-deidentify export-mapping --into SIDE_DB --output DIR [--key-file F]
  dicom-deidentify compare ORIGINAL DEIDENTIFIED [--html FILE] [--key-file F]
  dicom-deidentify key export FILE | key import FILE [--key-file F]
  dicom-deidentify demo [--workdir DIR]

Exit status: 0 all files done (skips included), 1 some file failed,
2 a usage or key problem, 130 cancelled with Ctrl-C.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

from .keys import KeyFileError, default_key_file, load_key, load_or_create_key, make_private_dir, secrets_home
from .linkage import LinkageStore, linkage_path
from .options import DateMode, DeidentifyOptions, IdentityMode
from .results import FAILED, SKIPPED
from .runs import deidentify_folder

DEMO_FILES = ["CT_small.dcm", "MR_small.dcm", "rtstruct.dcm", "rtplan.dcm", "rtdose.dcm",
              "JPEG2000.dcm", "emri_small.dcm", "US1_UNCR.dcm", "test-SR.dcm", "MR_truncated.dcm"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dicom-deidentify", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    anonymize = commands.add_parser("anonymize", help="de-identify files and folders (recursively)")
    anonymize.add_argument("inputs", nargs="+", type=Path, help="DICOM files or folders; never modified")
    where = anonymize.add_mutually_exclusive_group(required=True)
    where.add_argument("--output", type=Path, help="a plain folder for the de-identified copies")
    where.add_argument("--into", type=Path, help="a side database folder (what Slicer indexes as a separate "
                       "DICOM database; never Slicer's own database folder)")
    anonymize.add_argument("--no-linkage", action="store_true",
                           help="irreversible: the linkage store keeps no original value")
    add_common_options(anonymize)
    lookup = commands.add_parser("lookup", help="key holders: the original identity behind a pseudonym or UID")
    lookup.add_argument("term", help="a pseudonymous Patient ID, a pseudonym name or a new UID")
    lookup.add_argument("--into", type=Path, help="the side database (informative)")
    lookup.add_argument("--key-file", type=Path, help="the key; the linkage store sits beside it")
    export = commands.add_parser("export-mapping", help="uid_mapping.csv and patid_mapping.csv of a destination")
    export.add_argument("--into", type=Path, required=True, help="the side database or output folder of the runs")
    export.add_argument("--output", type=Path, required=True, help="folder for the CSV files (holds originals)")
    export.add_argument("--key-file", type=Path)
    compare = commands.add_parser("compare", help="attribute-by-attribute differences of two files or folders")
    compare.add_argument("original", type=Path)
    compare.add_argument("deidentified", type=Path)
    compare.add_argument("--html", type=Path, help="also write a side-by-side HTML page here")
    compare.add_argument("--key-file", type=Path, help="to pair folders by mapped SOP Instance UID")
    compare.add_argument("--all", action="store_true", help="also list attributes that did not change")
    key = commands.add_parser("key", help="move the key to another machine")
    key.add_argument("action", choices=["export", "import"])
    key.add_argument("file", type=Path, help="export: where to write the key; import: the key file to take")
    key.add_argument("--key-file", type=Path, help="the key location on this machine")
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
    o.add_argument("--clean-pixel-data", action="store_true",
                   help="look for burned-in text in every image (text detector, region rules) and blank it; an "
                        "image is marked clean only when a second check finds none left; cleaned images are "
                        "written uncompressed")
    o.add_argument("--burned-in", choices=["hold", "refuse"],
                   help="images likely to show identity that are not cleaned: hold (write, flagged for review; "
                        "the default) or refuse (write nothing)")
    o.add_argument("--pixel-rules", type=Path, metavar="FILE", help="extra region rules (JSON) for --clean-pixel-data")
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
    p.add_argument("--profile", type=Path, help="a profile saved as JSON or TOML; flags given here change it")
    r = parser.add_argument_group("run")
    r.add_argument("--key-file", type=Path, help=f"pseudonym key (default {secrets_home()}/pseudonym.key)")
    r.add_argument("--create-key", action="store_true", help="create --key-file if it does not exist")
    r.add_argument("--report-dir", type=Path, help="where the run report goes (default: beside the key)")
    r.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: one per core)")
    r.add_argument("--dry-run", action="store_true", help="show what would change; write no DICOM file")
    r.add_argument("--quiet", action="store_true", help="no progress bar")


def options_from_args(args) -> DeidentifyOptions:
    options = DeidentifyOptions.from_file(args.profile) if args.profile else DeidentifyOptions()
    for flag in ("retain_safe_private", "retain_uids", "retain_device_identity", "retain_institution_identity",
                 "retain_patient_characteristics", "clean_descriptors", "clean_structured_content",
                 "clean_graphics", "clean_pixel_data", "clean_recognizable_visual_features",
                 "allow_creator_on_higher_level", "skip_deidentified"):
        if getattr(args, flag):
            setattr(options, flag, True)
    if args.retain_dates:
        options.dates = DateMode(args.retain_dates)
    if args.burned_in:
        options.burned_in = args.burned_in
    if args.pixel_rules:
        options.pixel_rules_file = str(args.pixel_rules)
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
                  create_key: bool, report_dir: Path | None, jobs: int, dry_run: bool, quiet: bool,
                  side_database: bool = False, linkage: bool = True) -> int:
    for name in options.requested_but_not_implemented():
        print(f"warning: --{name.replace('_', '-')} is not implemented yet: the option is not claimed in the output",
              file=sys.stderr)
    if options.clean_pixel_data:
        from .pixel_detector import detector_available
        from .pixel_text import ocr_available
        if not detector_available():
            print("warning: --clean-pixel-data: the text detector (rapidocr-onnxruntime) is not installed; images are "
                  f"{'refused' if options.burned_in == 'refuse' else 'held for review'}, not cleaned", file=sys.stderr)
        elif not ocr_available():
            print("note: --clean-pixel-data: tesseract is not installed; the check after blanking reads a second "
                  "time with the detector on an enlarged, inverted image", file=sys.stderr)
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
            run = deidentify_folder(inputs, output, options, key_file=key_file, create_key=create_key,
                                    side_database=side_database, linkage=linkage, jobs=jobs, dry_run=dry_run,
                                    progress=progress, report_dir=report_dir)
    except KeyboardInterrupt:
        print("\ncancelled: no partial file was left; run the same command again to resume", file=sys.stderr)
        return 130
    except KeyFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        for bar in bars:
            if bar is not None:
                bar.close()
    if run.key_created:
        print(f"Created a new pseudonym key at {run.key_file} (owner-only). Back it up: the same key gives the "
              "same pseudonyms, UIDs and date shifts in later runs.", file=sys.stderr)
    if dry_run:
        print_dry_run(run.report_json)
    print_summary(run.summary, time.monotonic() - started, Path(output).resolve(), run.report_html,
                  run.report_json, dry_run)
    if run.linkage is not None:
        print(f"Linkage store (key holders only): {run.linkage}" + ("" if linkage else " (linkage off: no original values)"))
    return 1 if run.summary.failed else 0


def _progress_bar(total: int):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def print_dry_run(report_json: Path) -> None:
    """What the profile would do to these files: per attribute across files, then what needs review."""
    import json
    report = json.loads(Path(report_json).read_text(encoding="utf-8"))
    attributes = report["attributes"]
    names = sorted(set().union(*attributes.values()))
    print("Would change (attribute: files where it is removed / replaced / kept by an option):")
    for name in names:
        print(f"  {name}: {attributes['removed'].get(name, 0)} / {attributes['replaced'].get(name, 0)} / "
              f"{attributes['kept'].get(name, 0)}")
    if report["review"]:
        print("Would need review:")
        for item in report["review"]:
            print(f"  {item['path']}: {item['reason']} ({item['count']} files, e.g. {item['example']!r})")
    for entry in report["files"]:
        print(f"  {entry['status']:8} {entry['source']} -> {entry['output'] or '-'} ({entry['removed']} removed, "
              f"{entry['replaced']} replaced, {entry['review']} to review)")


def print_summary(summary, seconds, output, html_path, json_path, dry_run) -> None:
    """Every failed, skipped, held and to-review file by input path, then the counts."""
    totals = summary.totals()
    for result in summary.results:
        if result.status in (FAILED, SKIPPED):
            print(f"{result.status:8} {result.source}: {result.reason}")
    for result in summary.results:
        reasons = [item.reason for item in result.review if item.kept_in_output]
        if result.status in (FAILED, SKIPPED) or not reasons:
            continue
        where = "held" if result.held else "review"
        place = (f" -> held back at {result.output} (not in the side database until released)" if result.held
                 else f" -> {result.output}: written, NEEDS REVIEW before it is shared" if result.output else "")
        print(f"{where:8} {result.source}{place}")
        for reason in dict.fromkeys(reasons):
            print(f"           {reason}")
    rate = totals["files"] / seconds if seconds > 0 else 0.0
    verb = "would be written" if dry_run else "written"
    held = sum(1 for r in summary.results if r.held)
    to_review = sum(1 for r in summary.results if not r.held and r.status not in (FAILED, SKIPPED)
                    and any(item.kept_in_output for item in r.review))
    print(f"\n{totals['files']} files in {seconds:.1f} s ({rate:.0f} files/s): {totals['written'] + totals['dry-run']} "
          f"{verb}, {totals['skipped']} skipped, {totals['failed']} failed, {totals['review_items']} review items"
          + (f"; of the written, {held} held back for review, {to_review} needing review" if held or to_review else ""))
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
    commands = {"lookup": run_lookup, "export-mapping": run_export_mapping, "compare": run_compare, "key": run_key}
    if args.command in commands:
        try:
            return commands[args.command](args)
        except (KeyFileError, ValueError, OSError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    try:
        options = options_from_args(args)
    except (ValueError, OSError) as error:
        print(f"error: bad profile: {error}", file=sys.stderr)
        return 2
    return run_anonymize(args.inputs, args.into or args.output, options, args.key_file, args.create_key,
                         args.report_dir, args.jobs, args.dry_run, args.quiet, side_database=args.into is not None,
                         linkage=not args.no_linkage)


def _store(key_file) -> LinkageStore | None:
    path = linkage_path(Path(key_file) if key_file else default_key_file())
    return LinkageStore(path) if path.exists() else None


def run_lookup(args) -> int:
    store = _store(args.key_file)
    if store is None:
        print("no linkage store beside the key: nothing can be looked up", file=sys.stderr)
        return 1
    found = store.lookup(args.term)
    if not found:
        print("not found" + ("" if store.holds_originals() else " (the linkage store holds no original values: "
                             "linkage was off)"), file=sys.stderr)
        return 1
    print("PHI: original identity, for key holders only")
    for entry in found:
        print("  " + ", ".join(f"{k}={v}" for k, v in entry.items() if v not in (None, "")))
    return 0


def run_export_mapping(args) -> int:
    destination, output = args.into.resolve(), args.output.resolve()
    if output == destination or destination in output.parents:
        raise ValueError("the mapping holds original identities: write it outside the side database")
    store = _store(args.key_file)
    if store is None:
        raise ValueError("no linkage store beside the key")
    uids, patients = store.mapping(destination)
    if not uids and not patients:
        raise ValueError(f"the linkage store has no original values for {destination} (unknown destination, "
                         "or linkage was off)")
    make_private_dir(output)
    for name, rows in (("uid_mapping.csv", uids), ("patid_mapping.csv", patients)):
        write_csv(output / name, ["id_old", "id_new"], rows)
    print(f"{len(uids)} UIDs and {len(patients)} Patient IDs written to {output} (PHI: key holders only)")
    return 0


def write_csv(path: Path, header: list, rows: list) -> None:
    import csv
    temporary = path.with_name(f".{path.name}.partial")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(temporary, path)


def run_compare(args) -> int:
    from . import compare
    key = None
    if args.key_file or default_key_file().exists():
        key, _ = load_or_create_key(args.key_file)
    pairs = compare.pair_files(args.original, args.deidentified, key)
    if not pairs:
        print("no pairs found (for folders, pass the --key-file the run used)", file=sys.stderr)
        return 1
    import pydicom
    results = [(pair, compare.compare_datasets(pydicom.dcmread(str(pair[0]), force=True),
                                               pydicom.dcmread(str(pair[1]), force=True))) for pair in pairs]
    sys.stdout.write(compare.render_text(results, show_kept=args.all))
    if args.html:
        args.html.write_text(compare.render_html(results), encoding="utf-8")
        os.chmod(args.html, 0o600)
        print(f"side-by-side page (shows originals): {args.html}")
    return 0


def run_key(args) -> int:
    key_path = Path(args.key_file) if args.key_file else default_key_file()
    if args.action == "export":
        key = load_key(key_path)
        handle = os.open(args.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w") as stream:
            stream.write(key.hex() + "\n")
        print(f"key written to {args.file} (owner-only): move it over a safe channel, then delete it")
        return 0
    key = load_key(args.file)
    if key_path.exists():
        if load_key(key_path) == key:
            print(f"{key_path} already holds this key")
            return 0
        raise ValueError(f"{key_path} holds another key; replacing it would change every pseudonym")
    make_private_dir(key_path.parent)
    handle = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "w") as stream:
        stream.write(key.hex() + "\n")
    print(f"key imported to {key_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
