"""What both commands (dicom-deidentify, scene-scrubber) share in reading their arguments: a usage
error is one line, `error: <problem>; see <prog> --help`, exit 2 (never argparse's usage block, which
hides the problem), and numeric option values are checked when they are read (argparse types)."""
from __future__ import annotations

import argparse
import math
import os
import sys

# exit status when the reader of our output went away (`... | head -1`): 128 + SIGPIPE (13), what a shell
# reports for a command ended by a closed pipe
EXIT_PIPE_CLOSED = 141


class OneLineParser(argparse.ArgumentParser):
    """argparse's parser, but a usage error (unknown option, bad value) is one line, exit 2: the problem
    and where the help is. Subcommands made by add_subparsers use the same class. An unrecognized
    argument is reported by the subcommand it was given to (its --help is the one to read)."""

    def error(self, message):
        """Exit 2 with `error: <message>; see <prog> --help` on stderr (SystemExit; argparse's API)."""
        self.exit(2, f"error: {message}; see {self.prog} --help\n")

    def parse_args(self, args=None, namespace=None):
        """argparse's parse_args, but unrecognized arguments are reported (error, exit 2) by the subcommand
        they were given to, looked up in this parser's `commands` attribute (name -> subparser) when set."""
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            commands = getattr(self, "commands", {}) or {}
            command = commands.get(getattr(namespace, "command", None), self)
            command.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace


def positive_int(text: str) -> int:
    """An argparse type: a whole number of 1 or more (worker counts, days); ArgumentTypeError otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1: give a whole number of 1 or more")
    return value


def positive_megabytes(text: str) -> float:
    """An argparse type: a size in MB, a finite number above 0 (fractions allowed); ArgumentTypeError
    otherwise (0 would silently mean the default, a negative size refuses every file)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of megabytes") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a size: give a number of megabytes above 0")
    return value


def pipe_closed() -> int:
    """After a BrokenPipeError on stdout (the reader, e.g. `head`, has gone): point stdout at the null
    device, so that Python's flush at exit stays quiet too, and return EXIT_PIPE_CLOSED (141), with no
    message: the reader asked for no more (the usual convention of command-line tools)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):   # no real stdout (a test's capture): nothing to quiet
        pass
    return EXIT_PIPE_CLOSED
