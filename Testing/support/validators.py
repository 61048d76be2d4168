"""Run the real DICOM validators (dicom3tools, dcmtk) and compare input with output."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

DCIODVFY = shutil.which("dciodvfy")
DCENTVFY = shutil.which("dcentvfy")
DSRDUMP = shutil.which("dsrdump")
DCMDUMP = shutil.which("dcmdump")

# a value may hold a CR and so end the line before its closing '>'
_VALUE = re.compile(r"(=|:)\s*<[^>]*(>|$)|<[0-9.]{8,}>|\[[0-9]+\]")


def _normalise(line: str) -> str:
    # Values and item indexes differ legitimately between input and output (new UIDs, dummies).
    return _VALUE.sub("", line).strip()


def dciodvfy_errors(path: Path) -> set:
    """The set of errors dciodvfy -new reports, with values taken out so input and output compare."""
    run = subprocess.run([DCIODVFY, "-new", str(path)], capture_output=True, text=True, errors="replace",
                         timeout=120)
    lines = (run.stdout + run.stderr).replace("\r", " ").split("\n")
    return {_normalise(line) for line in lines if line.startswith("Error")}


def new_dciodvfy_errors(original: Path, deidentified: Path) -> set:
    return dciodvfy_errors(deidentified) - dciodvfy_errors(original)


def dcentvfy_errors(paths: list) -> set:
    run = subprocess.run([DCENTVFY, *map(str, paths)], capture_output=True, text=True, errors="replace",
                         timeout=300)
    return {_normalise(l) for l in (run.stdout + run.stderr).splitlines() if l.startswith("Error")}


def dsrdump_ok(path: Path, lenient: bool = False) -> tuple:
    """(parsed, output); lenient: warn about invalid content items instead of giving up."""
    command = [DSRDUMP] + (["-Ee"] if lenient else []) + [str(path)]
    run = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=60)
    return run.returncode == 0, run.stdout + run.stderr


def dcmdump_text(path: Path) -> str:
    run = subprocess.run([DCMDUMP, "-M", "+L", str(path)], capture_output=True, text=True, errors="replace",
                         timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout
