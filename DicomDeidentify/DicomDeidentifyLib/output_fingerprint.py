"""What an output file depends on besides its input: the settings part of its name (pipeline.output_path).

A re-run calls an output "already present" only when its name is the same, so the fingerprint must change
with anything that changes what is written (issue 13, item 9; review F2): the options, the content (not
the path) of the region rule file they name, the key (the caller hashes with it), this library's version
and its source and data files (the PS3.15 tables, their editions, the built-in rules and vocabulary), and
pydicom's version. A re-run after an upgrade or an edited rule file writes anew and replaces the earlier
version (batch._one_version_per_instance).
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def code_and_tables() -> str:
    """The library's version, pydicom's, the profile tables' editions and a SHA-256 of every source and
    data file of the package (.py, data/*.json). Computed once per process."""
    import pydicom

    from . import __version__
    from .tables import profile_table, safe_private_table
    digest = hashlib.sha256()
    for path in sorted([*_PACKAGE.glob("*.py"), *(_PACKAGE / "data").glob("*.json")]):
        digest.update(path.name.encode() + b"\x00" + path.read_bytes() + b"\x00")
    return json.dumps([__version__, pydicom.__version__, profile_table().editions,
                       safe_private_table().editions, digest.hexdigest()], sort_keys=True)


def settings_fingerprint(options, rules) -> str:
    """Text that differs whenever an output made with `options` (DeidentifyOptions) could differ: the
    options but the rule file's path, the region rules in use (region_rules.RegionRule list, the
    built-in ones and the file's, as read), code_and_tables(). Identifying values may be inside (fixed
    values, review decisions): only a keyed hash of it is ever stored."""
    data = options.to_dict()
    data.pop("pixel_rules_file", None)
    return json.dumps([data, [[rule.name, rule.conditions, [list(r) for r in rule.regions]] for rule in rules],
                       code_and_tables()], sort_keys=True, default=str)
