"""Compare an original with its de-identified copy, attribute by attribute (files or folders).

Folders are paired by SOP Instance UID: each original's UID is mapped with the
key (as the engine maps it) and looked up among the de-identified files.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pydicom

from .batch import iter_input_files
from .keyed_hash import KeyedHasher
from .uids import UidMapper, is_standard_uid

REMOVED, REPLACED, KEPT, ADDED = "removed", "replaced", "kept", "added"
MAX_SHOWN = 120


@dataclass
class Difference:
    path: str
    status: str
    original: str
    new: str


def flatten(dataset, prefix: str = "") -> dict:
    """{attribute path: shown value} over every nesting depth; pixel data only by size."""
    values = {}
    for element in dataset:
        name = element.keyword or f"({element.tag.group:04X},{element.tag.element:04X})"
        path = f"{prefix}{name}"
        if element.VR == "SQ":
            values[path] = f"<{len(element.value)} items>"
            for index, item in enumerate(element.value):
                values.update(flatten(item, f"{path}[{index}]."))
        elif isinstance(element.value, (bytes, bytearray)):
            values[path] = f"<{len(element.value)} bytes>"
        else:
            text = str(element.value)
            values[path] = text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."
    return values


def compare_datasets(original, deidentified) -> list:
    before, after = flatten(original), flatten(deidentified)
    differences = []
    for path in sorted(set(before) | set(after)):
        if path not in after:
            differences.append(Difference(path, REMOVED, before[path], ""))
        elif path not in before:
            differences.append(Difference(path, ADDED, "", after[path]))
        elif before[path] != after[path]:
            differences.append(Difference(path, REPLACED, before[path], after[path]))
        else:
            differences.append(Difference(path, KEPT, before[path], after[path]))
    return differences


def pair_files(original: Path, deidentified: Path, key: bytes | None) -> list:
    """[(original file, de-identified file)]: two files as given, two folders by mapped SOP Instance UID."""
    original, deidentified = Path(original), Path(deidentified)
    if original.is_file() and deidentified.is_file():
        return [(original, deidentified)]
    if not (original.is_dir() and deidentified.is_dir()):
        raise ValueError("compare two files or two folders")
    by_uid = {}
    for path in iter_input_files([deidentified]):
        uid = _sop_instance_uid(path)
        if uid:
            by_uid[uid] = path
    mapper = UidMapper(KeyedHasher(key)) if key else None
    pairs = []
    for path in iter_input_files([original]):
        uid = _sop_instance_uid(path)
        if not uid:
            continue
        candidates = [uid] + ([mapper.map(uid)] if mapper and not is_standard_uid(uid) else [])
        match = next((by_uid[c] for c in candidates if c in by_uid), None)
        if match is not None:
            pairs.append((path, match))
    return pairs


def _sop_instance_uid(path: Path) -> str:
    try:
        dataset = pydicom.dcmread(str(path), stop_before_pixels=True, force=True)
    except Exception:
        return ""
    return str(dataset.get("SOPInstanceUID", "") or "")


def render_text(pairs_with_differences: list, show_kept: bool = False) -> str:
    lines = []
    for (original, deidentified), differences in pairs_with_differences:
        lines.append(f"== {original}\n   {deidentified}")
        for d in differences:
            if d.status == KEPT and not show_kept:
                continue
            lines.append(f"  {d.status:9} {d.path}: {d.original!r} -> {d.new!r}")
    return "\n".join(lines) + "\n"


def render_html(pairs_with_differences: list) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>SlicerDeidentify comparison</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
             "td,th{border:1px solid #bbb;padding:3px 8px;text-align:left;vertical-align:top}"
             ".removed{background:#fde8e8}.replaced{background:#fff6dd}.added{background:#e8f5e8}</style></head><body>",
             "<h1>Original and de-identified, side by side</h1>",
             "<p>For key holders only: the left column shows original (identifying) values.</p>"]
    for (original, deidentified), differences in pairs_with_differences:
        parts.append(f"<h2>{e(str(original))}</h2><p>{e(str(deidentified))}</p><table><tr><th>attribute</th>"
                     "<th>original</th><th>de-identified</th><th>what happened</th></tr>")
        for d in differences:
            parts.append(f"<tr class='{d.status}'><td>{e(d.path)}</td><td>{e(d.original)}</td><td>{e(d.new)}</td>"
                         f"<td>{d.status}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
