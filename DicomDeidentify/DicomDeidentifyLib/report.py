"""Run reports for key holders: JSON for tools, one HTML page for people.

Reports go next to the key (never into the output folder): they name the
input files and, for a sample of files, show original values beside the new.
"""
from __future__ import annotations

import collections
import datetime
import html
import json
import os
import re
from functools import lru_cache
from pathlib import Path

from .keys import make_private_dir
from .options import DeidentifyOptions
from .results import FAILED, FileResult, RunSummary
from .tables import profile_table

SAMPLE_FILES = 5


class RunReport:
    def __init__(self, folder: Path, options: DeidentifyOptions, inputs: list, output: str | None,
                 with_originals: bool = True):
        make_private_dir(Path(folder).parent)
        self.folder = make_private_dir(folder)
        self.with_originals = with_originals   # linkage off: no original value in the report either
        self.options = options
        # Linkage off (irreversible): no input path either; files are told apart by their number.
        self.inputs = [str(i) for i in inputs] if with_originals else []
        self.input_count = len(inputs)
        self.output = output
        self.started = _now()
        self.files: list = []
        self.samples: list = []
        self.pixels: list = []   # every image blanked or not proven clean: regions, thumbnails' file names
        self.pixels_checked = 0  # images Clean Pixel Data looked at (found nothing, or cleaned)
        self.review = collections.Counter()
        self.review_values: dict = {}
        self.attributes = {what: collections.Counter() for what in ("removed", "replaced", "kept")}

    def add(self, result: FileResult) -> None:
        """Called for each file as it finishes. Per file it keeps the outcome and counts; what
        changed is counted per attribute across files, so memory stays flat; a few sample files
        keep their before/after values."""
        self.files.append({"source": self._source(result), "status": result.status,
                           "reason": result.reason if self.with_originals else reason_kind(result.reason),
                           "output": result.output, "removed": len(result.removed),
                           "replaced": len(result.replaced), "kept": len(result.kept),
                           "review": len(result.review), "held": result.held,
                           "needs_review": [item.reason if self.with_originals else reason_kind(item.reason)
                                            for item in result.review if item.kept_in_output]})
        for what, counter in self.attributes.items():
            counter.update(_attribute_name(path) for path in getattr(result, what))
        if self.with_originals and result.changes and len(self.samples) < SAMPLE_FILES:
            self.samples.append({"source": result.source, "output": result.output,
                                 "changes": [c.to_dict() for c in result.changes]})
        if "frames" in result.pixel:   # Clean Pixel Data ran (overlay-only results carry overlay_regions)
            self.pixels_checked += 1
            if result.pixel.get("changed") or not result.pixel.get("proven", result.pixel.get("verified")):
                self._add_pixels(result)
        if result.pixel.get("overlay_regions"):
            self.files[-1]["overlay_regions_blanked"] = result.pixel["overlay_regions"]
        for item in result.review:
            key = (item.path, item.reason)
            self.review[key] += 1
            self.review_values.setdefault(key, item.value)

    def _source(self, result: FileResult) -> str:
        """The input's path, or (linkage off) its number in this run: the path may name the patient."""
        return result.source if self.with_originals else f"input #{len(self.files) + 1}"

    def _add_pixels(self, result: FileResult) -> None:
        """A cleaned image: its regions, and its thumbnails written now as files beside the report
        (images/<n>-before.png, -after.png; owner-only), so that memory stays flat."""
        pixel = {k: v for k, v in result.pixel.items() if not k.endswith("_png")}
        pixel.update(source=self.files[-1]["source"], output=result.output)   # as listed (a number, linkage off)
        if not self.with_originals:   # what was read in the pixels is identity: only with originals
            for key in ("regions", "kept", "unexplained"):
                pixel[key] = [{k: v for k, v in r.items() if k != "text"} for r in pixel.get(key, [])]
        number = len(self.pixels) + 1
        pictures = [("after", result.pixel.get("after_png", b""))]
        if self.with_originals:   # the "before" picture shows what was burned in
            pictures.append(("before", result.pixel.get("before_png", b"")))
        for when, data in pictures:
            if data:
                name = f"images/{number}-{when}.png"
                make_private_dir(self.folder / "images")
                _write_private_bytes(self.folder / name, data)
                pixel[f"{when}_image"] = name
        self.pixels.append(pixel)

    def write(self, summary: RunSummary) -> tuple[Path, Path]:
        table = profile_table()
        document = {
            "started": self.started, "finished": _now(), "cancelled": summary.cancelled,
            "linkage": self.with_originals, "irreversible": not self.with_originals,
            "inputs": self.inputs, "input_count": self.input_count, "output": self.output,
            "profile": self.options.to_dict(),
            "method_codes": [c.value for c in self.options.method_codes()],
            "tables": {"editions": table.editions, "sources": table.sources},
            "totals": summary.totals(),
            "review": [{"path": p, "reason": r, "count": n, "example": self.review_values[(p, r)]}
                       for (p, r), n in sorted(self.review.items())],
            "attributes": {what: dict(counter.most_common()) for what, counter in self.attributes.items()},
            "files": self.files,
            "samples": self.samples,
            "pixels": self.pixels,
            "pixels_checked": self.pixels_checked,
        }
        json_path = self.folder / "report.json"
        html_path = self.folder / "report.html"
        _write_private(json_path, json.dumps(document, indent=1, ensure_ascii=False))
        _write_private(html_path, render_html(document))
        return json_path, html_path


_PRIVATE = re.compile(r"\(([0-9A-F]{3}[13579BDF]),[0-9A-F]{4}\)$")


@lru_cache(maxsize=65536)   # the same paths come back in every file
def _attribute_name(path: str) -> str:
    """'ReferencedImageSequence[3].ReferencedSOPInstanceUID' -> '...Sequence[].ReferencedSOPInstanceUID';
    private attributes counted per group: '(0009,1001)' -> '(0009,xxxx) private'."""
    if "[" in path:
        path = re.sub(r"\[\d+\]", "[]", path)
    private = _PRIVATE.search(path)
    return path[:private.start()] + f"({private.group(1)},xxxx) private" if private else path


def reason_kind(reason: str) -> str:
    """A reason without the file name or anything taken from the file (linkage off): its first
    clause, e.g. 'cannot be read', 'damaged or truncated'."""
    return reason.split(":")[0] if reason else ""


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def _write_private_bytes(path: Path, data: bytes) -> None:
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)


def _write_private(path: Path, text: str) -> None:
    _write_private_bytes(path, text.encode("utf-8"))


def render_html(doc: dict) -> str:
    e = html.escape
    totals = doc["totals"]
    rows = "".join(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in totals.items())
    problems = [f for f in doc["files"] if f["status"] == FAILED]
    skipped = [f for f in doc["files"] if f["status"] == "skipped"]
    held = [f for f in doc["files"] if f.get("held")]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>SlicerDeidentify run report</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #bbb;padding:3px 8px;text-align:left;vertical-align:top}"
        ".phi{background:#fff3f3}.warn{color:#a00}</style></head><body>",
        "<h1>SlicerDeidentify run report</h1>",
        ("<p class='warn'>For key holders only: this page shows original (identifying) values.</p>"
         if not doc.get("irreversible") else
         "<p class='warn'>Irreversible run (linkage off): no original path, name or value is recorded here or in "
         "the linkage store; nothing maps the outputs back to the inputs. Inputs are numbered in the order "
         "they were done.</p>"),
        f"<p>Started {e(doc['started'])}, finished {e(doc['finished'])}"
        f"{' (cancelled)' if doc['cancelled'] else ''}. Output: {e(str(doc['output']))}</p>",
        f"<h2>Summary</h2><table>{rows}</table>",
        "<h2>Profile</h2><table>" + "".join(
            f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in doc["profile"].items()) + "</table>",
        f"<p>Tables: {e(doc['tables']['editions'])}</p>",
        _file_table("Failures", problems),
        _file_table("Skipped", skipped),
        _file_table("Held back for review (not in the destination until released)", held),
        _review_files([f for f in doc["files"] if f.get("needs_review") and not f.get("held")]),
        "<h2>Needs review</h2>",
        ("<table><tr><th>attribute</th><th>reason</th><th>files</th><th>example (as written)</th></tr>" + "".join(
            f"<tr><td>{e(r['path'])}</td><td>{e(r['reason'])}</td><td>{r['count']}</td><td>{e(r['example'])}</td></tr>"
            for r in doc["review"]) + "</table>") if doc["review"] else "<p>None.</p>",
        "<h2>What changed, per attribute</h2><table><tr><th>attribute</th><th>removed</th><th>replaced</th>"
        "<th>kept by an option</th></tr>" + "".join(
            f"<tr><td>{e(name)}</td><td>{doc['attributes']['removed'].get(name, '')}</td>"
            f"<td>{doc['attributes']['replaced'].get(name, '')}</td><td>{doc['attributes']['kept'].get(name, '')}</td></tr>"
            for name in sorted(set().union(*doc["attributes"].values()))) + "</table>",
        _pixel_section(doc.get("pixels", [])),
        "<h2>Before and after (sample)</h2>",
    ]
    for sample in doc["samples"]:
        parts.append(f"<h3>{e(sample['source'])}</h3><table><tr><th>attribute</th><th>action</th>"
                     "<th>original</th><th>new</th></tr>" + "".join(
                         f"<tr><td>{e(c['path'])}</td><td>{e(c['action'])}</td><td class='phi'>{e(c['original'])}</td>"
                         f"<td>{e(c['new'])}</td></tr>" for c in sample["changes"]) + "</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _file_table(title: str, files: list) -> str:
    e = html.escape
    if not files:
        return f"<h2>{title}</h2><p>None.</p>"
    return (f"<h2>{title} ({len(files)})</h2><table><tr><th>file</th><th>reason</th></tr>" + "".join(
        f"<tr><td>{e(f['source'])}</td><td>{e(f['reason'])}</td></tr>" for f in files) + "</table>")


def _review_files(files: list) -> str:
    """Files written to the destination with values or pixels that a person must still check."""
    e = html.escape
    if not files:
        return "<h2>Written, but needing review</h2><p>None.</p>"
    return (f"<h2>Written, but needing review ({len(files)})</h2><table><tr><th>file</th><th>output</th>"
            "<th>why</th></tr>" + "".join(
                f"<tr><td>{e(f['source'])}</td><td>{e(f['output'])}</td><td>{'<br>'.join(e(r) for r in f['needs_review'])}"
                "</td></tr>" for f in files) + "</table>")


def _pixel_section(pixels: list) -> str:
    """Every image whose pixels were cleaned: the regions blanked, before and after side by side."""
    e = html.escape
    if not pixels:
        return "<h2>Pixels cleaned</h2><p>None.</p>"
    rows = []
    for p in pixels:
        regions = "<br>".join(f"({r['x']}, {r['y']}) {r['width']}&times;{r['height']}: {e(r['why'])}"
                              + (f" &laquo;{e(r['text'])}&raquo; ({r.get('confidence', 0):.2f})" if r.get("text") else "")
                              for r in p["regions"]) or "nothing blanked"
        regions += "".join(f"<br><b>still found</b> ({r['x']}, {r['y']}) {r['width']}&times;{r['height']}: {e(r['why'])}"
                           + (f" &laquo;{e(r['text'])}&raquo;" if r.get("text") else "") for r in p.get("unexplained", []))
        regions += "".join(f"<br>kept ({r['x']}, {r['y']}) {r['width']}&times;{r['height']}: &laquo;{e(r.get('text', ''))}&raquo;"
                           for r in p.get("kept", []))
        proven = p.get("proven", p["verified"])
        before = (f"<img alt='before' src='{e(p['before_image'])}'>" if p.get("before_image")
                  else "(not kept: no linkage)")
        rows.append(f"<tr><td>{e(p['source'])}<br>{'proven clean (detector and second reader)' if proven else '<b>not proven clean: review</b>'}"
                    f"<br>{p['frames']} frame(s), written as {e(p['transfer_syntax'] or 'before')}</td><td class='phi'>{before}</td>"
                    f"<td><img alt='after' src='{e(p.get('after_image', ''))}'></td><td>{regions}</td></tr>")
    return (f"<h2>Pixels cleaned ({len(pixels)})</h2><table><tr><th>file</th><th>before</th><th>after</th>"
            "<th>regions blanked (what was read: key holders only)</th></tr>" + "".join(rows) + "</table>")


def cleaned_images(report_json: Path) -> list:
    """[{"source", "before", "after", "regions", "verified"}] of a run's cleaned images, thumbnails as
    absolute paths ("before" is None when the run kept no originals): what a viewer shows side by side."""
    report_json = Path(report_json)
    document = json.loads(report_json.read_text(encoding="utf-8"))
    folder = report_json.parent
    return [{"source": p["source"], "regions": p["regions"], "verified": p.get("proven", p["verified"]),
             "before": str(folder / p["before_image"]) if p.get("before_image") else None,
             "after": str(folder / p["after_image"]) if p.get("after_image") else None}
            for p in document.get("pixels", [])]
