"""scene-scrubber: scrub and check saved Slicer scenes without Slicer.

  scene-scrubber scrub INPUT(.mrml | .mrb | scene folder) --output OUT [--term TEXT ...]
  scene-scrubber check INPUT [--term TEXT ...]

scrub writes a scrubbed copy, then checks it; check scans every file of a scene
for the identifying values its own hierarchy holds and for the given terms.
Exit status: 0 clean, 1 identifying values found, 2 the input could not be used.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .bundles import scrub_scene
from .scene_check import check_scene, identifying_terms
from .mrml_scrubber import SceneError
from .phi_attributes import search_forms
from .policy import ScrubPolicy


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="scene-scrubber", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"scene-scrubber {_version()} (slicer-deidentify)")
    commands = parser.add_subparsers(dest="command", required=True)
    scrub = commands.add_parser("scrub", help="write a copy without patient information")
    scrub.add_argument("input", type=Path)
    scrub.add_argument("--output", type=Path, required=True)
    scrub.add_argument("--term", action="append", default=[], help="also check for this text (repeatable)")
    check = commands.add_parser("check", help="find patient information in a saved scene")
    check.add_argument("input", type=Path)
    check.add_argument("--term", action="append", default=[], help="also look for this text (repeatable)")
    for command in (scrub, check):
        command.add_argument("--keep-uids", action="store_true",
                             help="keep study, series and instance UIDs (links to the DICOM database)")
        command.add_argument("--shift-dates", type=int, metavar="DAYS",
                             help="move DICOM dates back by DAYS instead of removing them")
    args = parser.parse_args(argv)
    policy = ScrubPolicy(keep_uids=args.keep_uids, date_offset_days=args.shift_dates)
    try:
        if args.command == "scrub":
            terms = identifying_terms(args.input, policy) | set(args.term)
            result = scrub_scene(args.input, args.output, policy)
            print(f"scrubbed {args.input} -> {result.output}: {result.report.removed_attributes} attributes and "
                  f"{result.report.removed_uids} UIDs removed, {len(result.report.renamed_items)} items renamed, "
                  f"{len(result.scrubbed_files)} files rewritten, {len(result.blanked_screenshots)} screenshots blanked")
            if result.report.relocated_files:
                print(f"{len(result.report.relocated_files)} data files stored outside the scene folder moved into Data/")
            for missing in result.missing_files:
                print(f"warning: the scene references {_masked_path(missing, terms)}, which is not in the input")
            return _report(check_scene(result.output, terms), result.output)
        terms = identifying_terms(args.input, policy) | set(args.term)
        return _report(check_scene(args.input, terms), args.input)
    except (SceneError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _report(findings: list, where: Path) -> int:
    if not findings:
        print(f"check: no identifying value found in {where}")
        return 0
    print(f"check: identifying values found in {where} (shown masked):")
    for finding in findings:
        where = f"at byte {finding.offset}" if finding.offset >= 0 else "in its name"
        print(f"  {_masked_in(finding.file, finding.term)} {where}: {_masked(finding.term)}")
    return 1


def _masked_path(path: str, terms) -> str:
    for term in terms:
        path = _masked_in(path, term)
    return path


def _masked(term: str) -> str:
    """Enough to recognise a value one knows, not enough to learn it from a log."""
    return f"{term[0]}{'*' * (len(term) - 2)}{term[-1]} ({len(term)} characters)" if len(term) > 2 else "**"


def _masked_in(text: str, term: str) -> str:
    """A file name with the value masked where it stands in it (data files are named after nodes)."""
    for form in sorted(search_forms(term), key=len, reverse=True):
        text = re.sub(re.escape(form), lambda match: _masked(match.group(0)).split(" (")[0], text, flags=re.I)
    return text


def _version() -> str:
    """The installed distribution's version (pyproject reads it from DicomDeidentifyLib.__version__)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("slicer-deidentify")
    except PackageNotFoundError:
        return "(not installed)"


if __name__ == "__main__":
    sys.exit(main())
