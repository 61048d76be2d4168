"""What becomes of an output that the scrub's own check finds identifying values in: it is removed.

A check of a scrubbed output without --term knows only the values the output's scene still
holds, and the scrub took those out of it; a file it could not clean (a format it cannot rewrite)
then passes a plain `check` of the output (review 14d, W2). So an output that failed its own
check is never left where a later check would call it clean: the output the scrub created (an
.mrb, a folder) is removed; for a .mrml written beside its data, the scene file and every file
the check named are removed (the others are the scrub's clean copies). The scrub created all of
these (an existing output is never replaced), so nothing of the user's is removed.
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger(__name__)


def remove_failed_output(output: Path, findings: list) -> None:
    """Remove a scrub's output that its own check found identifying values in (see the module's
    text). `findings`: scene_check.Finding of that check (their `file` relative to the output, or
    to a .mrml output's folder). OSError if a file cannot be removed."""
    output = Path(output)
    if output.is_dir() and not output.is_symlink():
        shutil.rmtree(output)
    elif output.suffix.lower() == ".mrml":
        folder = output.parent.resolve()
        for finding in findings:
            path = (folder / finding.file.rstrip("/")).resolve()
            # only files inside the output's folder, never a link, never the folder itself
            if folder in path.parents and os.path.isfile(path) and not os.path.islink(path):
                path.unlink()
        output.unlink(missing_ok=True)
    elif os.path.lexists(output):
        output.unlink()
    log.info("an output that failed its check was removed")
