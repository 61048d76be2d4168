"""dicom-deidentify: the command line, without Slicer.

  dicom-deidentify anonymize INPUT... (--output DIR | --into SIDE_DB) [--key-file F] [options]
  dicom-deidentify lookup PSEUDONYM-or-UID [--into DESTINATION] [--key-file F]
  dicom-deidentify export-mapping --into SIDE_DB --output DIR [--key-file F]
  dicom-deidentify compare ORIGINAL DEIDENTIFIED [--html FILE] [--key-file F]
  dicom-deidentify key export FILE | key import FILE [--key-file F]
  dicom-deidentify held list --into SIDE_DB | held release --into SIDE_DB (--keep A | --remove A)... [--key-file F]
  dicom-deidentify demo [--workdir DIR]
  dicom-deidentify --version

Header de-identification needs pydicom alone; --clean-pixel-data needs the [pixels] extra
(numpy, Pillow, OCR and decoders: pip install '.[pixels]'). Also runs as python -m DicomDeidentifyLib.

Exit status: 0 all files done (skips included), 1 some file failed (lookup: the term is not in the store),
2 a usage problem (one line: what is wrong and what to do; --debug adds the traceback),
3 an unexpected error (a bug: run again with --debug and report it), 130 cancelled with Ctrl-C,
141 (128 + SIGPIPE) when the program reading the output stopped (`| head`): no message then.
"""
from __future__ import annotations

import os
import signal
import sys


def _cancelled_during_start_up(signum, frame) -> None:
    """Ctrl-C before the run starts: nothing was written yet, so stop at once, without a traceback."""
    os.write(2, b"\ncancelled: nothing was written\n")
    os._exit(130)


def _as_a_command() -> bool:
    program = sys.argv[0] if sys.argv else ""
    return (__name__ == "__main__" or os.path.basename(program) == "dicom-deidentify"
            or (os.path.basename(program) == "__main__.py"                        # python -m DicomDeidentifyLib
                and os.path.basename(os.path.dirname(program)) == "DicomDeidentifyLib"))


# First of all (importing pydicom and the engine takes a while), when this is the command and not
# a module imported by Slicer or a test: _run_started() hands Ctrl-C back to Python
# (KeyboardInterrupt) once a run has something to stop cleanly.
if _as_a_command() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _cancelled_during_start_up)


def _run_started() -> None:
    if signal.getsignal(signal.SIGINT) is _cancelled_during_start_up:
        signal.signal(signal.SIGINT, signal.default_int_handler)

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

from . import __version__  # noqa: E402
from .bounded_read import DEFAULT_MAX_FILE_MB, DEFAULT_MAX_INFLATED_MB, ReadLimits
from .command_line import OneLineParser, pipe_closed, positive_int, positive_megabytes
from .keys import KeyFileError, default_key_file, load_key, make_private_dir, secrets_home, write_key
from .extras import missing_detector_modules, missing_pixel_modules, pixels_missing_message
from .options import OPTIONS, DeidentifyOptions, IdentityMode
from .results import ALREADY_PRESENT_TOTAL, ATTENTION, FAILED, HELD, SKIPPED, attention
from .worker_pool import machine_jobs

if TYPE_CHECKING:   # annotations only
    from .linkage import LinkageStore
# Imported where used, not here: .runs (the engine, pydicom and, on pydicom 3, numpy) and .linkage
# (sqlite3). --help, --version and a usage error load none of them (issue 19; test_start_up.py).

# all in pydicom's own package folder (pydicom/data/test_files): none comes from pydicom-data's download
DEMO_FILES = ["CT_small.dcm", "MR_small.dcm", "rtstruct.dcm", "rtplan.dcm", "rtdose.dcm",
              "JPEG2000.dcm", "SC_rgb_small_odd.dcm", "waveform_ecg.dcm", "test-SR.dcm", "MR_truncated.dcm"]


def version_text() -> str:
    """The package version, the editions of the PS3.15 tables it applies, and pydicom's version (from its
    installed metadata: importing pydicom 3 takes ~0.2 s of CPU and numpy; imported only without metadata)."""
    from .tables import profile_table, safe_private_table
    try:   # the metadata only if it describes the pydicom an import would load (find_spec does not run it)
        from importlib.metadata import distribution
        from importlib.util import find_spec
        installed = distribution("pydicom")
        if os.path.realpath(installed.locate_file("pydicom/__init__.py")) != os.path.realpath(find_spec("pydicom").origin):
            raise LookupError("another pydicom comes first on the path")
        pydicom_version = installed.version
    except Exception:   # no metadata (a source tree), or it is another copy's
        import pydicom
        pydicom_version = pydicom.__version__
    return (f"dicom-deidentify {__version__} (slicer-deidentify)\n"
            f"PS3.15 Table E.1-1 (profile and options): {profile_table().editions}\n"
            f"PS3.15 Table E.3.10-1 (safe private attributes): {safe_private_table().editions}\n"
            f"pydicom {pydicom_version}")


class _VersionAction(argparse.Action):
    """--version: like argparse's, but the text (it reads the tables) is made only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_text())
        parser.exit()


class UserError(Exception):
    """A problem the person running the command can fix: shown as one line, `error: <message>`, exit 2.
    The message names the problem and what to do."""


def _add_debug(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument("--debug", action="store_true", default=default,
                        help="on an error, also show the Python traceback")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of dicom-deidentify and its subcommands (command_line.OneLineParser: a usage
    error is one line, exit 2). The profile flags come from options.OPTIONS (add_common_options)."""
    parser = OneLineParser(prog="dicom-deidentify", description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_VersionAction,
                        help="the package version, the editions of the PS3.15 tables and pydicom's version")
    _add_debug(parser, False)
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
    c = anonymize.add_argument_group(
        "on a Dask cluster (the [cluster] extra)",
        "The files are de-identified by the cluster's workers; the key, the linkage store and the report stay "
        "on this machine. The inputs and the destination must be on storage every worker reaches at the same "
        "path (a shared file system): the run is refused if a worker cannot see an input, cannot write into "
        "the destination, or writes it elsewhere than this machine sees. The key goes to the workers in "
        "memory, never written there; whoever runs the cluster can read it and the files (README).")
    c.add_argument("--scheduler", metavar="ADDRESS",
                   help="tcp://host:8786 or tls://host:8786 (a running scheduler; not on this machine: TLS "
                        "only), or local:N (a cluster of N worker processes here); --jobs is then unused")
    c.add_argument("--tls-ca-file", type=Path, metavar="FILE", help="TLS: the certificate authority of the cluster")
    c.add_argument("--tls-cert", type=Path, metavar="FILE", help="TLS: this client's certificate")
    c.add_argument("--tls-key", type=Path, metavar="FILE", help="TLS: this client's private key")
    lookup = commands.add_parser("lookup", help="key holders: the original identity behind a pseudonym or UID")
    lookup.add_argument("term", help="a pseudonymous Patient ID, a pseudonym name or a new UID")
    lookup.add_argument("--into", type=Path, help="a destination of the runs (side database or output folder): "
                        "checked to be one this key's runs recorded")
    lookup.add_argument("--key-file", type=Path, help="the key; the linkage store sits beside it")
    export = commands.add_parser("export-mapping", help="uid_mapping.csv and patid_mapping.csv of a destination")
    export.add_argument("--into", type=Path, required=True, help="the side database or output folder of the runs")
    export.add_argument("--output", type=Path, required=True, help="folder for the CSV files (holds originals)")
    export.add_argument("--key-file", type=Path)
    compare = commands.add_parser("compare", help="attribute-by-attribute differences of two files or folders")
    compare.add_argument("original", type=Path)
    compare.add_argument("deidentified", type=Path)
    compare.add_argument("--html", type=Path, help="also write a side-by-side HTML page here, with both images "
                         "(it shows the original values and pixels: for key holders; refused inside a destination)")
    compare.add_argument("--key-file", type=Path, help="to pair folders by mapped SOP Instance UID")
    compare.add_argument("--all", action="store_true", help="also list attributes that did not change")
    key = commands.add_parser("key", help="move the key to another machine")
    key.add_argument("action", choices=["export", "import"])
    key.add_argument("file", type=Path, help="export: where to write the key; import: the key file to take")
    key.add_argument("--key-file", type=Path, help="the key location on this machine")
    held = commands.add_parser(
        "held", help="the files held back from a side database for review: list them, or release them",
        description="Files written into a side database with a kept value (or pixels not proven clean) are held "
                    "back beside the key until a person decides (as in Slicer's review panel, with the same "
                    "library function). 'list' names each held file and the attributes waiting; 'release' "
                    "applies --keep/--remove decisions to every held file all of whose waiting attributes they "
                    "cover and moves it into the side database (written atomically); the others stay held.")
    held.add_argument("action", choices=["list", "release"])
    held.add_argument("--into", type=Path, required=True, help="the side database the files were held back from")
    held.add_argument("--key-file", type=Path, help="the key of the runs (held/ is beside it)")
    held.add_argument("--keep", action="append", default=[], metavar="ATTRIBUTE",
                      help="release: keep this attribute's value as written (an attribute path as 'list' shows it, "
                           "e.g. StudyDescription or ContentSequence[*].TextValue; repeatable)")
    held.add_argument("--remove", action="append", default=[], metavar="ATTRIBUTE",
                      help="release: remove this attribute from the files (PixelData: the file is discarded)")
    held.add_argument("--verbose", action="store_true",
                      help="list: also show the kept values (they may identify the patient: not for shared logs)")
    demo = commands.add_parser("demo", help="de-identify sample files shipped with pydicom and show the report")
    demo.add_argument("--workdir", type=Path, default=Path("demo-output"),
                      help="where the sample inputs, their de-identified copies and the demo's own key and report "
                           "go (default ./demo-output)")
    demo.add_argument("--jobs", type=positive_int, default=None)
    demo.add_argument("--clean-pixel-data", action="store_true",
                      help="also clean burned-in text from the sample images (the [pixels] extra; the report "
                           "then shows them before and after)")
    for command in commands.choices.values():   # --debug after the command too; SUPPRESS keeps one given before
        _add_debug(command, argparse.SUPPRESS)
    parser.commands = commands.choices
    return parser


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Add the options every de-identifying subcommand shares to `parser`: each profile setting's flag as
    its OptionInfo declares it (grouped as PS3.15 Table E.1-1 options or identity), --profile, and the
    run's options: --key-file, --create-key, --report-dir, --jobs, --dry-run, --max-file-size and
    --max-inflated-size (MB), --quiet, --verbose."""
    groups = {"profile": parser.add_argument_group("PS3.15 Table E.1-1 options (default: the basic profile alone)"),
              "identity": parser.add_argument_group("patient identity and private tags")}
    for name, info in OPTIONS.items():   # each flag as its setting declares it (options.OptionInfo)
        if info.flag:
            groups[info.group].add_argument(info.flag, *info.aliases, dest=info.dest, help=info.help,
                                            **_flag_kind(name, info))
    p = groups["identity"]
    p.add_argument("--profile", type=Path, help="a profile saved as JSON or TOML; flags given here change it")
    r = parser.add_argument_group("run")
    r.add_argument("--key-file", type=Path, help=f"pseudonym key (default {secrets_home()}/pseudonym.key)")
    r.add_argument("--create-key", action="store_true", help="create --key-file if it does not exist")
    r.add_argument("--report-dir", type=Path, help="where the run report goes (default: beside the key)")
    r.add_argument("--jobs", type=positive_int, default=None,
                   help="worker processes (default: chosen from the usable cores and the machine's load: "
                        "one when it is busy)")
    r.add_argument("--dry-run", action="store_true", help="show what would change; write no DICOM file")
    r.add_argument("--max-file-size", type=positive_megabytes, metavar="MB",
                   help=f"a larger input fails with a reason, unread (default {DEFAULT_MAX_FILE_MB} MB)")
    r.add_argument("--max-inflated-size", type=positive_megabytes, metavar="MB",
                   help="a deflated input that inflates to more fails with a reason "
                        f"(default {DEFAULT_MAX_INFLATED_MB} MB)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--verbose", action="store_true",
                   help="name the files that need attention by their input path (and reason in full) in the "
                        "summary; without it, by output name and number only (input paths often name the "
                        "patient: keep them out of shared logs; the report lists them, for key holders)")


def _flag_kind(name: str, info) -> dict:
    """argparse's arguments for the flag of setting `name` (its options.OptionInfo `info`), after the
    setting's kind: on/off (store_true), one of choices, a list (repeatable), a path, or text."""
    default = DeidentifyOptions.__dataclass_fields__[name].default
    if default is False:
        return {"action": "store_true"}
    if info.flag_choices or info.choices:
        return {"choices": list(info.flag_choices or info.choices)}
    kind = {"metavar": info.metavar} if info.metavar else {}
    if isinstance(default, tuple):
        return {"action": "append", "default": [], **kind}
    return {"type": Path, **kind} if info.path else kind


def load_profile(path: Path) -> DeidentifyOptions:
    """The options of a --profile file; UserError naming the file and what is wrong in it (chained to the
    cause, so that --debug shows where)."""
    try:
        return DeidentifyOptions.from_file(path)
    except FileNotFoundError as error:
        raise UserError(f"profile file {path} does not exist: check the path") from error
    except IsADirectoryError as error:
        raise UserError(f"profile file {path} is a folder: give the profile's file (JSON or .toml)") from error
    except OSError as error:
        raise UserError(f"profile file {path} cannot be read ({error.strerror}): check the file") from error
    except UnicodeDecodeError as error:
        raise UserError(f"profile file {path} is not a text file (UTF-8): give a profile saved as JSON or "
                        "TOML") from error
    except json.JSONDecodeError as error:
        raise UserError(f"profile file {path} is not valid JSON ({error.msg} at line {error.lineno}, column "
                        f"{error.colno}): fix the file or save the profile again") from error
    except ValueError as error:   # from_dict names the setting; tomllib's TOMLDecodeError is a ValueError
        if type(error).__name__ == "TOMLDecodeError":
            raise UserError(f"profile file {path} is not valid TOML ({error}): fix the file") from error
        raise UserError(f"profile file {path}: {error}; fix the file") from error


def options_from_args(args) -> DeidentifyOptions:
    """The profile of --profile (or the basic profile) with every option flag given applied on top:
    a flag changes its setting only when given (an on/off flag switches on; a repeatable one adds to
    the profile's list); UserError naming the flag for a value the setting refuses."""
    options = load_profile(args.profile) if args.profile else DeidentifyOptions()
    for name, info in OPTIONS.items():
        value = getattr(args, info.dest) if info.flag else None
        if value is None or value is False or value == []:
            continue
        if isinstance(value, list):
            value = tuple(getattr(options, name)) + tuple(value)
        setattr(options, name, str(value) if info.path else value)
        try:   # DateMode and IdentityMode from their values, the private tags parsed, as from a profile
            options.__post_init__()
        except ValueError as error:
            raise UserError(f"{info.flag}: {error}") from error
    return options


def check_anonymize(args, options: DeidentifyOptions) -> None:
    """What can be told before any file is read or any key made: UserError, or a note on stderr."""
    for path in args.inputs:
        if not path.exists():
            raise UserError(f"input {path} does not exist: check the path (give DICOM files or folders)")
    if not any(_holds_an_entry(path) for path in args.inputs):
        # the inputs' names stay out (they may name the patient); nothing is made (key, report, store)
        raise UserError(f"no files in the input{'s' if len(args.inputs) != 1 else ''}: nothing to de-identify; "
                        "give DICOM files or folders holding them")
    if (args.patient_name is not None or args.patient_id is not None) and options.identity is not IdentityMode.FIXED:
        raise UserError(f"--patient-name and --patient-id are for --identity fixed (the identity is "
                        f"{options.identity.value}, so they would be ignored): add --identity fixed, or leave them out")
    for name, problem in options.fixed_value_problems():   # the library refuses them too (check_fixed_values)
        raise UserError(f"{OPTIONS[name].flag} {problem}: give another value")
    missing = missing_pixel_modules() if options.clean_pixel_data or options.clean_graphics else []
    if missing and options.clean_pixel_data:
        raise UserError(pixels_missing_message("--clean-pixel-data", missing))
    if options.clean_pixel_data and missing_detector_modules():   # nothing would be cleaned: refused, not a run
        raise UserError(pixels_missing_message("--clean-pixel-data (its text detector)", missing_detector_modules()))
    if options.pixel_rules_file and not options.clean_pixel_data:
        raise UserError("--pixel-rules is for --clean-pixel-data: add --clean-pixel-data, or leave --pixel-rules out")
    if options.clean_pixel_data and options.pixel_rules_file:
        from .region_rules import load_rules
        # named as the person gave it: the option, or the profile file's setting
        given, what = (("--pixel-rules", "option") if args.pixel_rules else
                       (f"the profile's pixel_rules_file ({args.profile})", "setting"))
        if not Path(options.pixel_rules_file).is_file():
            raise UserError(f"{given} file {options.pixel_rules_file} does not exist: check the path")
        try:   # read here once: a bad file would otherwise fail in every worker process
            load_rules(options.pixel_rules_file)
        except (OSError, ValueError) as error:
            raise UserError(f"{given}: {error}: fix the file or leave the {what} out") from error
    # notes only once nothing above refused the run: an error stays the one line on stderr
    if missing:
        print(f"note: --clean-graphics: overlay bitmaps are not read without the [pixels] extra "
              f"({', '.join(missing)} not installed); files with overlays are held for review", file=sys.stderr)
    if options.pseudonym_keeps_sex and options.identity is IdentityMode.PSEUDONYM \
            and not options.retain_patient_characteristics:
        print("note: --keep-sex: pseudonyms follow Patient's Sex, but the attribute itself is emptied (basic "
              "profile); add --retain-patient-characteristics to keep it", file=sys.stderr)


def _holds_an_entry(path: Path) -> bool:
    """Whether the input `path` is anything but a folder holding (at any depth) only folders: a file, or
    a folder with a file or a link in it somewhere (what the walk of input_files reads or reports). The
    first one found ends the look; os alone (a usage error loads no pydicom: test_start_up)."""
    if not path.is_dir():
        return True
    for folder, subfolders, files in os.walk(path):
        if files or any(os.path.islink(os.path.join(folder, name)) for name in subfolders):
            return True
    return False


def run_anonymize(inputs: list, output: Path, options: DeidentifyOptions, key_file: Path | None,
                  create_key: bool, report_dir: Path | None, jobs: int, dry_run: bool, quiet: bool,
                  side_database: bool = False, linkage: bool = True, limits: ReadLimits | None = None,
                  verbose: bool = False, cluster=None) -> int:
    """Run `anonymize` (and the demo) through runs.deidentify_folder and print its notes, summary and
    where the report and linkage store are; returns the exit status: 0 all done, 1 some file failed,
    130 cancelled with Ctrl-C. Raises UserError (one line, exit 2) for a key, path or profile problem
    the library names (KeyFileError, FileNotFoundError, ValueError). Files are named by their number in
    the run; input paths and reasons only with `verbose` (they may name the patient)."""
    from .runs import deidentify_folder   # the engine and pydicom: once a run starts, before its clock
    for name in options.requested_but_not_implemented():
        print(f"warning: {OPTIONS[name].flag} is not implemented yet: the option is not claimed in the output",
              file=sys.stderr)
    if options.clean_pixel_data:
        from .pixel_text import ocr_available   # the detector itself: check_anonymize refused the run without it
        if not ocr_available():
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
        _run_started()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # pydicom's per-value warnings would drown the summary
            run = deidentify_folder(inputs, output, options, key_file=key_file, create_key=create_key,
                                    side_database=side_database, linkage=linkage, jobs=jobs, dry_run=dry_run,
                                    progress=progress, report_dir=report_dir, limits=limits, cluster=cluster)
    except KeyboardInterrupt:
        print("\ncancelled: no partial file was left; run the same command again to resume", file=sys.stderr)
        return 130
    except (KeyFileError, FileNotFoundError, ValueError) as error:   # the key, the paths: named by the library
        raise UserError(_one_line(error)) from error
    finally:
        for bar in bars:
            if bar is not None:
                bar.close()
    if run.key_created:
        print(f"Created a new pseudonym key at {run.key_file} (owner-only). Back it up: the same key gives the "
              "same pseudonyms, UIDs and date shifts in later runs.", file=sys.stderr)
    if not run.summary.totals()["files"]:   # the inputs' names stay out (they may name the patient)
        print(f"note: no files found in the input{'s' if len(inputs) != 1 else ''}: nothing was written (give "
              "DICOM files or folders holding them)", file=sys.stderr)
    if dry_run:
        print_dry_run(run.report_json, verbose)
    print_summary(run.summary, time.monotonic() - started, Path(output).resolve(), run.report_html,
                  run.report_json, dry_run, verbose)
    if run.linkage is not None:
        if linkage:
            print(f"Linkage store (key holders only): {run.linkage}")
        else:   # what --no-linkage records, and what not (linkage.py, report.py)
            print(f"Linkage off: no original value (name, ID, UID, input path) is recorded; the linkage store "
                  f"{run.linkage} keeps only pseudonyms, new UIDs and each output's name and status, and the "
                  "report numbers the inputs instead of naming them")
    return 1 if run.summary.failed else 0


def _count(number: int, word: str) -> str:
    """'1 file', '2 files', '0 review items': a count and its noun, plural unless it is one."""
    return f"{number} {word}{'' if number == 1 else 's'}"


def _progress_bar(total: int):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def print_dry_run(report_json: Path, verbose: bool = False) -> None:
    """What the profile would do to these files: per attribute across files, then what needs review,
    then each file, by its number in the run (with `verbose`, by input path too)."""
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
            example = f", e.g. {item['example']!r}" if verbose else ""   # a kept value: only with --verbose
            print(f"  {item['path']}: {item['reason']} ({_count(item['count'], 'file')}{example})")
    for entry in report["files"]:
        name = f"#{entry.get('number', '')}" + (f" {entry['source']}" if verbose else "")
        print(f"  {entry['status']:8} {name} -> {entry['output'] or '-'} ({entry['removed']} removed, "
              f"{entry['replaced']} replaced, {entry['review']} to review)")


def print_summary(summary, seconds, output, html_path, json_path, dry_run, verbose: bool = False) -> None:
    """Every held, to-review, failed and skipped file (results.attention), then the counts. Each is
    named by its number in the run (the report's "#n", which names its input path) and its output
    name; `verbose` adds the input path and the reason in full (paths and reasons may name the
    patient: without it nothing identifying reaches a log)."""
    from .report import reason_kind
    totals = summary.totals()
    # only the files that need a person, read back from the results (on disk after a run: ResultSpool)
    numbered = [(number, result, kind) for number, result in enumerate(summary.results, 1)
                for kind in [attention(result)] if kind]
    listed = [(n, r, kind) for kind_wanted in ATTENTION for n, r, kind in numbered if kind == kind_wanted]
    if listed:
        print(f"Needs attention ({len(listed)} file{'s' if len(listed) != 1 else ''}; the report names each by "
              f"input path{'' if verbose else ', for key holders'}):")
    for number, result, kind in listed:
        name = f"#{number}" + (f" {result.source}" if verbose else
                                f" {Path(result.output).name}" if result.output else "")
        if kind in (FAILED, SKIPPED):
            print(f"{kind:8} {name}: {result.reason if verbose else reason_kind(result.reason)}")
            continue
        would = "would be " if dry_run else ""   # a dry run writes and holds nothing
        if kind == HELD:
            place = f" -> {would}held back at {result.output}" if verbose else f": {would}held back"
            print(f"{kind:8} {name}{place} (not in the side database until released: 'held list --into' shows "
                  "what waits, 'held release' or Slicer's review panel releases it)")
        else:
            place = f" -> {result.output}" if verbose else ""
            print(f"{kind:8} {name}{place}: {would}written, NEEDS REVIEW before it is shared")
        for reason in dict.fromkeys(item.reason for item in result.review if item.kept_in_output):
            print(f"           {reason}")
    present = totals[ALREADY_PRESENT_TOTAL]
    if present:   # the same words as the report's (templates/report.html.j2)
        print(f"{present} file{'s' if present != 1 else ''} already present (written by an earlier run from the "
              "same input, profile and key): not written again, and nothing of them is counted in this run; "
              "their review items are in the earlier run's report")
    rate = totals["files"] / seconds if seconds > 0 else 0.0
    verb = "would be written" if dry_run else "written"
    held = sum(1 for _, _, kind in numbered if kind == HELD)
    to_review = sum(1 for _, _, kind in numbered if kind == "review")
    print(f"\n{_count(totals['files'], 'file')} in {seconds:.1f} s ({rate:.0f} files/s): "
          f"{totals['written'] + totals['dry-run']} {verb}, {totals['skipped']} skipped"
          + (f" ({present} already present, not written again)" if present else "")
          + f", {totals['failed']} failed, {_count(totals['review_items'], 'review item')}"
          + (f"; of these, {held} {'would be ' if dry_run else ''}held back for review, {to_review} needing review"
             if held or to_review else ""))
    if not dry_run:
        print(f"De-identified files: {output}")
    if Path(html_path) == Path(json_path):   # no page: Jinja2 is missing (report.py); the run said so
        print(f"Report (key holders only): {json_path} (no HTML page: Jinja2 is not installed)")
    else:
        print(f"Report (key holders only): {html_path}\n                           {json_path}")


# an ultrasound with burned-in text, for demo --clean-pixel-data: pydicom-data's, not in pydicom's package
PIXEL_DEMO_FILES = ["US1_UNCR.dcm"]


def _pixel_demo_files() -> list:
    """PIXEL_DEMO_FILES from pydicom's cache, downloaded from pydicom-data when not there (said on the
    console); offline, the demo goes on without them, and says so."""
    from pydicom.data import get_testdata_file
    found = []
    for name in PIXEL_DEMO_FILES:
        path = get_testdata_file(name, download=False)
        if not path:
            print(f"Downloading {name} (an ultrasound with burned-in text) from pydicom-data "
                  "(github.com/pydicom/pydicom-data) into pydicom's cache", file=sys.stderr)
            try:
                import logging
                quiet, logging.getLogger("pydicom").disabled = logging.getLogger("pydicom").disabled, True
                try:   # pydicom's and urllib's retry warnings and log lines: the note below says it once
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        path = get_testdata_file(name)
                finally:
                    logging.getLogger("pydicom").disabled = quiet
            except Exception as error:   # offline: the demo goes on with pydicom's own files
                path, reason = None, type(error).__name__
            else:
                reason = "not found"   # pydicom 3 returns None when the download failed
            if not path:
                print(f"note: {name} could not be downloaded ({reason}): the demo goes on without it (no image "
                      "with burned-in text to clean)", file=sys.stderr)
        if path:
            found.append(Path(path))
    return found


def run_demo(workdir: Path, jobs: int, clean_pixel_data: bool = False) -> int:
    """`demo`: copy pydicom's own test files (never downloaded; with `clean_pixel_data`, images with
    burned-in text too) into <workdir>/originals and de-identify them into <workdir>/deidentified with a
    new key in <workdir>/secrets. Returns 0 (the demo's refused files are expected) or 130.
    Raises UserError when the [pixels] extra is missing for `clean_pixel_data` or a demo folder is a file;
    ValueError, before any file is written, when `workdir` lies inside a destination (page_places)."""
    if clean_pixel_data:   # before any download or file: the extra, and its text detector
        missing = missing_pixel_modules() or missing_detector_modules()
        if missing:
            raise UserError(pixels_missing_message("--clean-pixel-data", missing))
    from pydicom.data import get_testdata_file
    sources = []
    for name in DEMO_FILES:
        path = get_testdata_file(name, download=False)   # shipped with pydicom: never downloaded
        if path:
            sources.append(Path(path))
    if clean_pixel_data:
        sources += _pixel_demo_files()
    workdir = Path(workdir).resolve()
    # before anything is copied: original files (and the demo's key) never go into what is shared
    _refuse_shared(workdir, "demo --workdir", workdir / "secrets" / "pseudonym.key",
                   why="the demo copies original files and writes its key there; name a folder apart from any "
                       "destination (the default is ./demo-output)")
    for folder in (workdir, workdir / "originals", workdir / "deidentified", workdir / "secrets"):
        if folder.exists() and not folder.is_dir():   # other content is fine: the demo writes only these three
            raise UserError(f"demo --workdir {workdir}: {folder} is a file, not a folder: name a new folder, or one "
                            "an earlier demo made")
    samples, secrets = workdir / "originals", workdir / "secrets"
    samples.mkdir(parents=True, exist_ok=True)
    for path in sources:   # a copy, so the demo's inputs are plain files beside its outputs
        target = samples / path.name
        if not target.exists():
            target.write_bytes(path.read_bytes())
    (samples / "notes.txt").write_text("not a DICOM file: the run skips it and says why\n")
    print(f"Sample inputs: {samples}")
    status = run_anonymize([samples], workdir / "deidentified", DeidentifyOptions(clean_pixel_data=clean_pixel_data),
                           secrets / "pseudonym.key",
                           True, None, jobs, False, False, verbose=True)   # sample files: no patient
    print("(MR_truncated.dcm is cut off on purpose and notes.txt is not DICOM: both are refused with a reason.)")
    return 0 if status in (0, 1) else status


def main(argv=None) -> int:
    """The command line; returns the exit status. Errors are one line on stderr (see the module's
    docstring for the statuses); --debug adds the traceback."""
    try:
        args = build_parser().parse_args(argv)
    except BrokenPipeError:   # --help or --version into a closed pipe
        return pipe_closed()
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("\ncancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:   # stdout's reader went away (`| head`): quietly, as other tools do
        return pipe_closed()
    except (UserError, KeyFileError, ValueError, OSError) as error:
        if args.debug:
            traceback.print_exc()
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return 2
    except Exception as error:   # a bug: one line, and how to see where
        if args.debug:
            traceback.print_exc()
        print(f"error: unexpected {type(error).__name__}: {_one_line(error)} (a bug: run again with --debug to "
              "see where, and report it)", file=sys.stderr)
        return 3


def _one_line(error: BaseException) -> str:
    """The message of an error on one line; an OSError as the path and what the system said, and what to do."""
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror.lower()}: check the path and its permissions"
    return str(error).replace("\r", " ").replace("\n", " ").strip() or type(error).__name__


def _run(args) -> int:
    if args.command == "demo":
        return run_demo(args.workdir, args.jobs or machine_jobs(), args.clean_pixel_data)
    commands = {"lookup": run_lookup, "export-mapping": run_export_mapping, "compare": run_compare, "key": run_key,
                "held": run_held}
    if args.command in commands:
        _run_started()
        with warnings.catch_warnings():   # pydicom's raw warnings never reach the console: reasons are said in words
            warnings.simplefilter("ignore")
            return commands[args.command](args)
    options = options_from_args(args)
    check_anonymize(args, options)
    _run_started()
    destination = args.into or args.output

    def anonymize(cluster=None) -> int:
        return run_anonymize(args.inputs, destination, options, args.key_file, args.create_key,
                             args.report_dir, args.jobs or machine_jobs(), args.dry_run, args.quiet, side_database=args.into is not None,
                             linkage=not args.no_linkage,
                             limits=ReadLimits.from_megabytes(args.max_file_size, args.max_inflated_size),
                             verbose=args.verbose, cluster=cluster)
    if not args.scheduler:
        if args.tls_ca_file or args.tls_cert or args.tls_key:
            raise UserError("--tls-ca-file, --tls-cert and --tls-key are for --scheduler: give the cluster's address")
        return anonymize()
    from .cluster import ClusterError, DaskCluster   # dask is imported only for a cluster run
    try:
        with DaskCluster(args.scheduler, tls_ca_file=args.tls_ca_file, tls_cert=args.tls_cert,
                         tls_key=args.tls_key) as cluster:
            # before the key, the linkage store or the report is made: a destination the workers cannot
            # write is refused with nothing made here
            cluster.check(args.inputs, None if args.dry_run else Path(destination).resolve())
            return anonymize(cluster)
    except ClusterError as error:
        raise UserError(str(error)) from error


def _store(key_file) -> LinkageStore | None:
    from .linkage import LinkageStore, linkage_path
    path = linkage_path(Path(key_file) if key_file else default_key_file())
    return LinkageStore(path) if path.exists() else None


def _store_of(key_file) -> LinkageStore:
    """The linkage store beside `key_file` (the default key when None); UserError (a usage problem, exit 2)
    naming the key when it or its store is missing."""
    key_path = Path(key_file) if key_file else default_key_file()
    if not key_path.exists():
        raise UserError(f"no key at {key_path}, so no linkage store beside it: pass the --key-file the runs used")
    store = _store(key_path)
    if store is None:
        raise UserError(f"no linkage store beside the key {key_path} (no run with this key was recorded): pass the "
                        "--key-file the runs used")
    return store


def run_lookup(args) -> int:
    """Exit 0 found, 1 looked and not found; a missing key, store or --into folder is a usage error (2)."""
    store = _store_of(args.key_file)
    if args.into is not None:
        if not args.into.is_dir():
            raise UserError(f"--into {args.into} does not exist or is not a folder: name the side database or "
                            "output folder the runs wrote, or leave --into out")
        recorded = {os.path.realpath(d) for d in store.destinations()}
        if os.path.realpath(args.into) not in recorded:
            raise UserError(f"--into {args.into} is not a destination of the runs this key recorded: name one "
                            "they wrote, pass the --key-file they used, or leave --into out")
    found = store.lookup(args.term)
    if not found:
        print("not found: no pseudonymous Patient ID, pseudonym name or new UID is that in the linkage store"
              + ("" if store.holds_originals() else " (the linkage store holds no original values: "
                             "linkage was off)"), file=sys.stderr)
        return 1
    print("PHI: original identity, for key holders only")
    for entry in found:
        print("  " + ", ".join(f"{k}={v}" for k, v in entry.items() if v not in (None, "")))
    return 0


def run_export_mapping(args) -> int:
    """`export-mapping`: write uid_mapping.csv and patid_mapping.csv (id_old, id_new; originals, key
    holders only) for the destination --into into the folder --output, made owner-only. Returns 0.
    Raises UserError when the key or its linkage store is missing, ValueError when the folder lies
    inside a destination or the store holds no original values for --into (unknown destination, or
    linkage was off)."""
    destination, output = args.into.resolve(), args.output.resolve()
    # the mapping holds original identities: never inside --into nor any other destination (page_places)
    _refuse_shared(output, "the mapping folder", args.key_file, [destination],
                   "it holds original UIDs and Patient IDs; write it outside (e.g. beside the key)")
    store = _store_of(args.key_file)
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
    """Write `header` and `rows` (lists of values) to the CSV file `path`, owner-only (0600) and atomically
    (a temporary file beside it, then a rename). Raises OSError when it cannot be written."""
    import csv
    temporary = path.with_name(f".{path.name}.partial")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(temporary, path)


COMPARE_WARNING = ("warning: compare shows original (identifying) values and paths: for key holders only, keep "
                   "its output out of shared logs")


def run_compare(args) -> int:
    """`compare ORIGINAL DEIDENTIFIED`: pair the two files, or the folders' files (by the linkage store's
    record, else by mapped SOP Instance UID), print each pair's differences (compare.render_text) and,
    with --html, write the side-by-side page with images (owner-only, never inside a destination).
    Returns 0, or 1 when no pair was found or could be read. Raises UserError for a missing path, Jinja2
    missing for --html, a missing --key-file or a given file that is not DICOM; ValueError for a page
    placed inside a destination, the original side or any input a run of this key recorded
    (page_places.refuse_inside_inputs);
    KeyFileError for a key that cannot be used."""
    from . import compare
    for path in (args.original, args.deidentified):
        if not path.exists():
            raise UserError(f"{path} does not exist: give the original and the de-identified file or folder")
    if args.html:   # the page shows original values: never into what is shared (told before any file is read)
        from .pages import jinja2_missing
        if jinja2_missing():   # before its images (original pixels) are written: never pictures without a page
            raise UserError("compare --html needs Jinja2 (pip install jinja2; in Slicer: pip_install('jinja2')): "
                            "install it, or leave --html out")
        from .page_places import destination_of_outputs, refuse_inside_inputs
        # the de-identified folder (a file's own), and the destination its outputs lie in, recorded or not
        shared = [args.deidentified if args.deidentified.is_dir() else args.deidentified.parent,
                  destination_of_outputs(args.deidentified)]
        _refuse_shared(args.html, "the --html page", args.key_file, shared)
        images = args.html.parent / f"{args.html.stem}_images"   # compare.pair_pictures writes the originals there
        if images.is_symlink():
            raise UserError(f"{images} is a link: refused (the page's images show original pixels and are never "
                            "written through a link); remove it or name another page")
        _refuse_shared(images, "the --html page's images folder", args.key_file, shared)
        # nor into what it compares (the originals) or any input a run of this key read: inputs are only read
        from .page_places import recorded_inputs
        originals = [args.original, *recorded_inputs(Path(args.key_file) if args.key_file else default_key_file())]
        for place, what in ((args.html, "the --html page"), (images, "the --html page's images folder")):
            refuse_inside_inputs(place, what, originals)   # the de-identified side is in `shared`
        if args.html.is_dir():
            raise UserError(f"--html {args.html} is a folder: name the page's file, e.g. {args.html / 'compare.html'}")
        make_private_dir(args.html.parent)   # a missing folder is made (owner-only: the page shows originals)
    key = None
    if args.key_file and not Path(args.key_file).exists():   # compare never makes a key
        raise UserError(f"no key at {args.key_file}: pass the --key-file the runs used, or leave it out (files are "
                        "then paired by name and UID only)")
    if args.key_file or default_key_file().exists():   # read only: comparing never creates a key
        key = load_key(Path(args.key_file) if args.key_file else default_key_file())
    warned = []

    def warn_once() -> None:   # before the first line that shows an original path or value (stdout may be a log)
        if not warned:
            print(COMPARE_WARNING, file=sys.stderr, flush=True)
            warned.append(True)
    failed = []
    store = _store(args.key_file) if args.original.is_dir() and args.deidentified.is_dir() else None
    # the records of the runs into THIS folder (an earlier destination of the same inputs too)
    recorded = store.recorded_files(args.deidentified) if store is not None else {}
    if recorded:   # the store's own record of which input became which output; a UID only for the rest
        pairs, failed, unknown = compare.pair_recorded(args.original, args.deidentified, recorded)
        if unknown:
            known = {p for pair in pairs for p in pair[1:]}
            pairs += [pair for pair in compare.pair_files(args.original, args.deidentified, key)
                      if pair[0] in unknown and pair[1] not in known]
    else:
        pairs = compare.pair_files(args.original, args.deidentified, key)
    for path, reason in failed:
        warn_once()
        print(f"failed   {path}: {reason}")
    if not pairs:
        print("no pairs found (for folders, pass the --key-file the run used)", file=sys.stderr)
        return 1
    from .dicom_io import DicomReadError
    results, images = [], []
    for pair in pairs:
        sides = []
        for path in pair:
            try:
                sides.append(compare.read_side(path))
            except DicomReadError as error:   # said in words, never pydicom's warning
                if not args.original.is_dir():   # one of the two files given: a usage problem
                    raise UserError(f"{path}: {error.reason}: compare two DICOM files") from error
                warn_once()
                print(f"failed   {path}: {error.reason}")
                break
        if len(sides) < 2:
            continue
        original, deidentified = sides
        results.append((pair, compare.compare_datasets(original, deidentified)))
        if args.html:
            images.append(compare.pair_pictures(args.html, len(results), original, deidentified))
    if not results:
        print("no pair could be read", file=sys.stderr)
        return 1
    warn_once()
    sys.stdout.write(compare.render_text(results, show_kept=args.all))
    if args.html:
        compare.write_page(args.html, results, images)
        print(f"side-by-side page (shows originals): {args.html}")
    return 0


def _refuse_shared(path: Path, what: str, key_file, more=(), why: str | None = None) -> None:
    """ValueError (one line) if `path`, where a secret is to be written, lies inside a destination: one
    the runs of `key_file` recorded, one of `more`, or one found by its marker or outputs (any key):
    page_places.destination_around, the one check of every secret's place."""
    from .page_places import SHOWS_ORIGINALS, recorded_destinations, refuse_inside_destination
    key_path = Path(key_file) if key_file else default_key_file()
    refuse_inside_destination(path, what, [*recorded_destinations(key_path), *more], why or SHOWS_ORIGINALS)


def run_held(args) -> int:
    """held list / held release: the files a side database's runs held back beside the key, through
    import_controller (ImportController.pending and .release: what Slicer's review panel calls)."""
    from .import_controller import ImportController
    from .review import KEEP, REMOVE, ReviewDecision, check_release_names, grouped, needs_decision
    from .side_database import is_side_database
    key_path = Path(args.key_file) if args.key_file else default_key_file()
    if not is_side_database(args.into):
        raise UserError(f"--into {args.into} is not a side database: name the folder the runs wrote with --into")
    if not key_path.exists():
        raise UserError(f"no key at {key_path}: pass the --key-file the runs used (held/ is beside it)")
    controller = ImportController(args.into, key_file=key_path, create_key=False)
    pending = controller.pending()
    if args.action == "list":
        if args.keep or args.remove:
            raise UserError("--keep and --remove are for 'held release'")
        print(f"{len(pending.held)} file{'s' if len(pending.held) != 1 else ''} held back from {controller.side_database}"
              f" (beside the key, in {controller.held_root / 'pending'})")
        for held in pending.held:
            print(f"  {held.destination.relative_to(controller.side_database)}")
            for item in held.review:
                if needs_decision(item):
                    value = f" = {item.value!r}" if args.verbose else ""
                    print(f"      {grouped(item.path)}{value}: {item.reason}")
        if pending.held:
            print(f"release: dicom-deidentify held release --into "
                  f"{args.into} --keep ATTRIBUTE | --remove ATTRIBUTE ... (or Slicer's review panel)")
        return 0
    if not (args.keep or args.remove):
        raise UserError("held release needs a decision: --keep ATTRIBUTE or --remove ATTRIBUTE (see 'held list')")
    waiting = {grouped(item.path) for held in pending.held for item in held.review if needs_decision(item)}
    check_release_names(args.keep, args.remove, waiting)   # before anything moves or is discarded
    decisions = [ReviewDecision(a, KEEP) for a in args.keep] + [ReviewDecision(a, REMOVE) for a in args.remove]
    released = controller.release(pending, decisions)
    print(f"{len(released)} released into {controller.side_database}, {len(pending.discarded)} discarded, "
          f"{len(pending.held)} still held (attributes no decision covers: see 'held list')")
    return 0


def run_key(args) -> int:
    """`key export FILE` writes the key to a new owner-only file; `key import FILE` installs a key where
    none is (atomically, never over another key). Returns 0. Raises UserError or ValueError (one line,
    exit 2) when the key is missing, FILE exists (export) or is missing (import), the place lies inside a
    destination, or another key is already there; KeyFileError for a file that is not a usable key."""
    from .runs import KEY_APART
    key_path = Path(args.key_file) if args.key_file else default_key_file()
    # a key written into what is shared (a destination of any key, a copy of one) undoes its de-identification
    _refuse_shared(args.file if args.action == "export" else key_path,
                   "the exported key" if args.action == "export" else "the key file", key_path, (), KEY_APART)
    if args.action == "export":
        if not key_path.exists():
            raise UserError(f"no key at {key_path} to export: pass the --key-file the runs used")
        if args.file.exists():   # told before the key is read
            raise UserError(f"{args.file} already exists: name a new file (an existing one is never overwritten)")
        key = load_key(key_path)
        handle = os.open(args.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w") as stream:
            stream.write(key.hex() + "\n")
        print(f"key written to {args.file} (owner-only): move it over a safe channel, then delete it")
        return 0
    if not args.file.exists():
        raise UserError(f"key file to import {args.file} does not exist: check the path")
    key = load_key(args.file)
    if key_path.exists():
        if load_key(key_path) == key:
            print(f"{key_path} already holds this key")
            return 0
        raise ValueError(f"{key_path} holds another key; replacing it would change every pseudonym")
    make_private_dir(key_path.parent, key_material=True)
    if not write_key(key_path, key):   # atomic: never a partial key, never over another one
        if load_key(key_path) != key:
            raise ValueError(f"{key_path} was just created with another key; replacing it would change every pseudonym")
    print(f"key imported to {key_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
