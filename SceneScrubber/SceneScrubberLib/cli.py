"""scene-scrubber: scrub and check saved Slicer scenes without Slicer.

  scene-scrubber scrub INPUT(.mrml | .mrb | scene folder) --output OUT [--term TEXT ...] [--allow-folder DIR ...]
  scene-scrubber check INPUT [--term TEXT ...] [--allow-folder DIR ...]

scrub writes a scrubbed copy, then checks it (an output the check finds identifying values in
is removed again, exit 1); check scans every file of a scene for the identifying values its own
hierarchy holds and for the given terms.
Only the scene's own files are read: data a storage node references outside the
scene's folder is refused unless --allow-folder names a folder that holds it.
Exit status: 0 clean, 1 identifying values found, 2 a usage problem or the input could not
be read or was refused (one line on stderr says why; identifying values in it are masked).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .bundles import scrub_scene
from .failed_outputs import remove_failed_output
from DicomDeidentifyLib.command_line import OneLineParser, positive_int
from DicomDeidentifyLib.spellings import key_of, long_enough

from .identity_matcher import MIN_KEY, IdentityMatcher, masked, matcher_for
from .mrml_scrubber import SceneError
from .policy import ScrubPolicy
from .scene_check import check_scene, identifying_terms
from .scene_sources import described

EXIT_CLEAN, EXIT_FOUND, EXIT_REFUSED = 0, 1, 2


def main(argv=None) -> int:
    """Run `scene-scrubber` with `argv` (sys.argv[1:] when None) and return the exit code: EXIT_CLEAN (0),
    EXIT_FOUND (1, identifying values found) or EXIT_REFUSED (2, cannot read or refused, one line on stderr)."""
    parser = OneLineParser(prog="scene-scrubber", description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"scene-scrubber {_version()} (slicer-deidentify)")
    commands = parser.add_subparsers(dest="command", required=True)
    scrub = commands.add_parser("scrub", help="write a copy without patient information")
    scrub.add_argument("input", type=Path)
    scrub.add_argument("--output", type=Path, required=True)
    scrub.add_argument("--term", action="append", default=[],
                       help="also take out and check for this text, 3+ characters (repeatable)")
    check = commands.add_parser("check", help="find patient information in a saved scene")
    check.add_argument("input", type=Path)
    check.add_argument("--term", action="append", default=[],
                       help="also look for this text, 3+ characters (repeatable)")
    for command in (scrub, check):
        command.add_argument("--keep-uids", action="store_true",
                             help="keep study, series and instance UIDs (links to the DICOM database)")
        command.add_argument("--shift-dates", type=positive_int, metavar="DAYS",
                             help="move DICOM dates back by DAYS (1 or more) instead of removing them")
        command.add_argument("--allow-folder", action="append", default=[], type=Path, metavar="DIR",
                             help="a folder outside the scene's own from which its data may be read (repeatable)")
    parser.commands = commands.choices   # an unrecognized argument names its subcommand's --help
    args = parser.parse_args(argv)
    # the matcher compares letters and digits ("A-1" is "a1"): a shorter key would be ignored silently
    short = [term for term in args.term if not long_enough(key_of(term), MIN_KEY)]
    if short:
        commands.choices[args.command].error(f"--term needs {MIN_KEY} or more letters or digits")
    policy = ScrubPolicy(keep_uids=args.keep_uids, date_offset_days=args.shift_dates)
    # What is known to identify, for masking every line printed (the input's own name included).
    known = IdentityMatcher(terms=args.term)
    try:
        if args.command == "scrub":
            result = scrub_scene(args.input, args.output, policy, args.allow_folder, terms=args.term)
            known = matcher_for(result.report.identifying_values,
                                set(args.term) | result.report.identifier_values)
            _print(known, f"scrubbed {args.input} -> {result.output}: {result.report.removed_attributes} "
                          f"attributes and {result.report.removed_uids} UIDs removed, "
                          f"{len(result.report.renamed_items)} items renamed, {len(result.scrubbed_files)} files "
                          f"rewritten, {len(result.blanked_screenshots)} screenshots blanked")
            if result.brought_in:
                print(f"{len(result.brought_in)} data files stored outside the scene folder (in an allowed "
                      "folder) brought into Data/")
            if result.made_relative:
                print(f"{len(result.made_relative)} data files inside the scene folder but referenced by an "
                      "absolute path moved into Data/ (references made relative)")
            for missing in result.missing_files:
                _print(known, f"warning: the scene references {missing}, which is not in the input")
            findings = check_scene(result.output, known, policy=policy)
            status = _report(findings, result.output, known)
            if findings:   # never left where a later check, knowing less, would call it clean
                remove_failed_output(result.output, findings)
                _print(known, "scrub: identifying values remain in the output, which was removed (use --term, or "
                              "report the file kind above)")
            return status
        values, ids = identifying_terms(args.input, policy, args.allow_folder, with_identifiers=True)
        known = matcher_for(values, set(args.term) | ids)
        return _report(check_scene(args.input, known, args.allow_folder, policy), args.input, known)
    except SceneError as error:
        return _refused(known, str(error))
    except OSError as error:
        # no path: it can carry the patient's name before anything is known to mask it
        return _refused(known, f"a file could not be read or written: {error.strerror or described(error)}")
    except Exception as error:   # never a traceback: it could print identifying values
        return _refused(known, f"the input could not be used: {described(error)}")


def _refused(known: IdentityMatcher, reason: str) -> int:
    print("error: " + known.masked(" ".join(reason.split())), file=sys.stderr)
    return EXIT_REFUSED


def _print(known: IdentityMatcher, line: str) -> None:
    print(known.masked(line))


def _report(findings: list, where: Path, known: IdentityMatcher) -> int:
    if not findings:
        _print(known, f"check: no identifying value found in {where}")
        return EXIT_CLEAN
    _print(known, f"check: identifying values found in {where} (shown masked):")
    for finding in findings:
        place = f"at byte {finding.offset}" if finding.offset >= 0 else "in its name"
        _print(known, f"  {finding.file} {place}: {masked(finding.term)}")
    return EXIT_FOUND


def _version() -> str:
    """The installed distribution's version (pyproject reads it from DicomDeidentifyLib.__version__)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("slicer-deidentify")
    except PackageNotFoundError:
        return "(not installed)"


if __name__ == "__main__":
    sys.exit(main())
