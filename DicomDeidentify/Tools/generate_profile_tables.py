#!/usr/bin/env python3
"""Generate the de-identification action tables from DICOM PS3.15 Annex E.

Reads, in this order (later editions win where a row differs):
  1. the standard's DocBook source of PS3.15 2023b: Table E.1-1 (all option
     columns) and Table E.3.10-1 (Safe Private Attributes);
  2. Table E.1-1 of the 2024b edition, parsed to JSON (innolitics/dicom-standard);
  3. the 2026c basic-profile tag lists shipped as data by the PyPI package
     dicom-anonymizer (basic action only: options default to the basic action).

Writes two JSON files into DicomDeidentifyLib/data/, each recording the
editions and the SHA-256 of every source file read. The outputs are committed;
Testing/test_profile_tables.py regenerates them and checks they match.

Usage:
  python DicomDeidentify/Tools/generate_profile_tables.py [--standard-dir DicomDeidentify/Tools/standard] [--check]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE.parent / "DicomDeidentifyLib" / "data"
PROFILE_FILE = "ps315_profile.json"
SAFE_PRIVATE_FILE = "ps315_safe_private.json"

DOCBOOK_NS = "{http://docbook.org/ns/docbook}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"

# Column order of Table E.1-1 after name, tag, retired and "in std. comp. IOD".
OPTION_COLUMNS = [
    "basic",
    "retain_safe_private",
    "retain_uids",
    "retain_device_identity",
    "retain_institution_identity",
    "retain_patient_characteristics",
    "retain_long_full_dates",
    "retain_long_modified_dates",
    "clean_descriptors",
    "clean_structured_content",
    "clean_graphics",
]
# The same columns as named in the innolitics JSON.
JSON_COLUMNS = dict(zip(OPTION_COLUMNS, [
    "basicProfile", "rtnSafePrivOpt", "rtnUIDsOpt", "rtnDevIdOpt", "rtnInstIdOpt",
    "rtnPatCharsOpt", "rtnLongFullDatesOpt", "rtnLongModifDatesOpt", "cleanDescOpt",
    "cleanStructContOpt", "cleanGraphOpt",
]))
# dicom-anonymizer's list names -> action codes of the standard.
ANONYMIZER_LISTS = {
    "D": "D", "Z": "Z", "X": "X", "U": "U", "Z_D": "Z/D", "X_Z": "X/Z",
    "X_D": "X/D", "X_Z_D": "X/Z/D", "X_Z_U_STAR": "X/Z/U*",
}
VALID_CODES = {"", "X", "Z", "D", "U", "K", "C", "X/Z", "X/D", "Z/D", "X/Z/D", "X/Z/U*"}
PRIVATE_ROW = "(gggg,eeee) where gggg is odd"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cell_text(element) -> str:
    return " ".join("".join(element.itertext()).split())


def docbook_table(root, table_id: str) -> list[list[str]]:
    for element in root.iter(f"{DOCBOOK_NS}table"):
        if element.get(XML_ID) == table_id:
            return [[cell_text(td) for td in tr.findall(f"{DOCBOOK_NS}td")]
                    for tr in element.iter(f"{DOCBOOK_NS}tr") if tr.findall(f"{DOCBOOK_NS}td")]
    raise SystemExit(f"table {table_id} not found")


def normalize_tag(tag: str) -> str:
    """'(0008,0050)' -> '(0008,0050)'; '(50xx,xxxx)' keeps its lower-case x wildcards."""
    tag = tag.strip().upper().replace("X", "x")
    if not re.fullmatch(r"\([0-9A-Fx]{4},[0-9A-Fx]{4}\)", tag):
        raise ValueError(f"unexpected tag {tag!r}")
    return tag


def tag_value_and_mask(tag: str) -> tuple[str, str]:
    """(60xx,4000) -> ('60004000', 'FF00FFFF'): value and mask of the tag pattern."""
    digits = tag[1:5] + tag[6:10]
    value = "".join("0" if c == "x" else c for c in digits)
    mask = "".join("0" if c == "x" else "F" for c in digits)
    return value, mask


def read_2023b(path: Path) -> tuple[dict, list]:
    root = ET.parse(path).getroot()
    rows = {}
    for cells in docbook_table(root, "table_E.1-1"):
        if len(cells) != 15:
            raise SystemExit(f"E.1-1 row with {len(cells)} cells: {cells}")
        name, tag, retired, in_iod = cells[:4]
        if tag == PRIVATE_ROW:
            continue  # private attributes are handled by rule, not by row
        actions = dict(zip(OPTION_COLUMNS, cells[4:]))
        tag = normalize_tag(tag)
        if tag in rows:
            # 2023b lists a few AE titles twice (C and K under device identity):
            # keep the more protective action; 2024b settles them.
            previous = rows[tag]["actions"]
            for col, code in actions.items():
                if previous[col] != code and "C" in (previous[col], code):
                    previous[col] = "C"
            rows[tag]["source"] = "2023b (listed twice)"
            continue
        rows[tag] = {
            "name": name, "retired": retired == "Y", "in_std_iod": in_iod == "Y",
            "actions": actions, "source": "2023b",
        }
    safe = []
    for element, creator, vr, vm, meaning in docbook_table(root, "table_E.3.10-1"):
        match = re.fullmatch(r"\(([0-9A-F]{4}),xx([0-9A-F]{2})\)", element.strip().upper().replace("X", "x"))
        if not match:
            raise SystemExit(f"unexpected safe private element {element!r}")
        safe.append({"group": match.group(1), "element": match.group(2), "creator": creator,
                     "vr": vr, "vm": vm, "meaning": meaning})
    return rows, safe


def merge_2024b(rows: dict, path: Path) -> dict:
    changes = {"added": 0, "changed": 0}
    for entry in json.loads(path.read_text()):
        if "gggg" in entry["tag"].lower():
            continue
        tag = normalize_tag(entry["tag"])
        actions = {col: entry.get(key, "") for col, key in JSON_COLUMNS.items()}
        old = rows.get(tag)
        if old is None:
            rows[tag] = {"name": entry["name"], "retired": False,
                         "in_std_iod": entry.get("stdCompIOD") == "Y",
                         "actions": actions, "source": "2024b"}
            changes["added"] += 1
        elif old["actions"] != actions:
            old["actions"] = actions
            old["source"] = "2023b, changed in 2024b"
            changes["changed"] += 1
    return changes


def read_anonymizer_lists(path: Path) -> dict[str, tuple[str, str]]:
    """Parse dicom-anonymizer's tag lists as text (never imported or executed)."""
    entries, current = {}, None
    for line in path.read_text().splitlines():
        start = re.match(r"^([A-Z_]+)_TAGS = \[", line)
        if start:
            current = start.group(1) if start.group(1) in ANONYMIZER_LISTS else None
            continue
        item = re.search(r"\(0x([0-9A-F]{4}), 0x([0-9A-F]{4})(?:, 0x([0-9A-F]{4}), 0x([0-9A-F]{4}))?\),\s*#\s*(.*)", line)
        if item and current:
            group, element, group_mask, element_mask, name = item.groups()
            tag = f"({group},{element})"
            if group_mask:  # (0x5000, 0x0000, 0xFF00, 0x0000) -> (50xx,xxxx)
                digits = [c if m == "F" else "x" for c, m in zip(group + element, group_mask + element_mask)]
                tag = "(" + "".join(digits[:4]) + "," + "".join(digits[4:]) + ")"
            entries[normalize_tag(tag)] = (ANONYMIZER_LISTS[current], name.strip())
    return entries


def merge_2026c(rows: dict, entries: dict) -> dict:
    changes = {"added": 0, "changed": 0}
    for tag, (action, name) in entries.items():
        old = rows.get(tag)
        if old is None:
            rows[tag] = {"name": name, "retired": False, "in_std_iod": None,
                         "actions": {col: (action if col == "basic" else "") for col in OPTION_COLUMNS},
                         "source": "2026c (dicom-anonymizer 2.1.0)"}
            changes["added"] += 1
        elif old["actions"]["basic"] != action:
            old["actions"]["basic"] = action
            old["source"] += ", basic action changed in 2026c"
            changes["changed"] += 1
    return changes


def find_anonymizer_file(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    import importlib.util
    spec = importlib.util.find_spec("dicomanonymizer")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("dicom-anonymizer is not installed (pip install dicom-anonymizer==2.1.0)")
    return Path(list(spec.submodule_search_locations)[0]) / "dicom_anonymization_databases" / "dicomfields_2026c.py"


def anonymizer_version() -> str:
    try:
        from importlib.metadata import version
        return version("dicom-anonymizer")
    except Exception:  # the version is informative only
        return "unknown"


def build(standard_dir: Path, anonymizer_file: Path) -> tuple[dict, dict]:
    xml_path = standard_dir / "ps3.15-2023b.xml"
    json_path = standard_dir / "ps3.15-table-E.1-1.json"
    rows, safe = read_2023b(xml_path)
    count_2023b = len(rows)
    changes_2024b = merge_2024b(rows, json_path)
    changes_2026c = merge_2026c(rows, read_anonymizer_lists(anonymizer_file))
    for tag, row in rows.items():
        bad = {code for code in row["actions"].values()} - VALID_CODES
        if bad:
            raise SystemExit(f"{tag}: unknown action codes {bad}")
    sources = [
        {"file": xml_path.name, "edition": "2023b", "what": "PS3.15 DocBook: Table E.1-1, Table E.3.10-1",
         "sha256": sha256(xml_path)},
        {"file": json_path.name, "edition": "2024b", "what": "Table E.1-1 as JSON (innolitics/dicom-standard)",
         "sha256": sha256(json_path)},
        {"file": f"dicomanonymizer/dicom_anonymization_databases/{anonymizer_file.name}", "edition": "2026c",
         "what": f"basic-profile tag lists of dicom-anonymizer {anonymizer_version()}",
         "sha256": sha256(anonymizer_file)},
    ]
    attributes = []
    for tag in sorted(rows, key=lambda t: tag_value_and_mask(t)[0]):
        row = rows[tag]
        value, mask = tag_value_and_mask(tag)
        entry = {"tag": tag, "value": value, "name": row["name"], "source": row["source"],
                 "retired": row["retired"], "in_std_iod": row["in_std_iod"]}
        if mask != "FFFFFFFF":
            entry["mask"] = mask
        entry.update({col: code for col, code in row["actions"].items() if code})
        attributes.append(entry)
    generator = "DicomDeidentify/Tools/generate_profile_tables.py"
    profile = {
        "title": "DICOM PS3.15 Table E.1-1 Application Level Confidentiality Profile Attributes",
        "editions": "2023b, merged with 2024b and 2026c (a later edition wins where a row differs)",
        "generated_by": generator,
        "sources": sources,
        "columns": OPTION_COLUMNS,
        "counts": {"2023b_rows": count_2023b, "2024b": changes_2024b, "2026c": changes_2026c,
                   "total": len(attributes)},
        "attributes": attributes,
    }
    safe_private = {
        "title": "DICOM PS3.15 Table E.3.10-1 Safe Private Attributes",
        "editions": "2023b",
        "generated_by": generator,
        "sources": sources[:1],
        "attributes": safe,
    }
    return profile, safe_private


def render(table: dict) -> str:
    return json.dumps(table, indent=1, ensure_ascii=False) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--standard-dir", default=str(HERE / "standard"))
    parser.add_argument("--anonymizer-file", help="dicomfields_2026c.py (default: from the installed dicom-anonymizer)")
    parser.add_argument("--output-dir", default=str(DATA_DIR))
    parser.add_argument("--check", action="store_true", help="only compare with the files in --output-dir")
    args = parser.parse_args(argv)
    profile, safe_private = build(Path(args.standard_dir), find_anonymizer_file(args.anonymizer_file))
    out = Path(args.output_dir)
    stale = []
    for name, table in ((PROFILE_FILE, profile), (SAFE_PRIVATE_FILE, safe_private)):
        target = out / name
        text = render(table)
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(name)
        else:
            out.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            print(f"wrote {target}")
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    print(json.dumps(profile["counts"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
