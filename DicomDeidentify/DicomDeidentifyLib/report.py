"""Run reports for key holders: JSON for tools, one HTML page for people.

Reports go next to the key (never into a destination): they name the input files and,
for a sample of files, show original values beside the new. The page opens with what
needs a person (held, to review, failed, skipped: results.attention), a link to each
file's entry; cleaned images are shown whole and as crops of every blanked region, at
full resolution (report_images). The page is the template templates/report.html.j2.

Memory stays flat in the number of files (issue 19): each file's row goes, as it finishes, to
report.files.jsonl.partial (JSON Lines, owner-only) beside the report, and only counts and bounded
samples stay in memory. At the end (RunReport.write) report.json is written by streaming the rows
back from that file, the page is rendered from the rows that need a person, and a last line
{"end": ...} is appended before the file is renamed report.files.jsonl. A run that was killed leaves
only the ".partial" file, without that line and without report.json: never a report that claims
to be complete.
"""
from __future__ import annotations

import collections
import datetime
import json
import logging
import os
import re
import struct
from functools import lru_cache
from pathlib import Path

from .keys import make_private_dir
from .options import DeidentifyOptions, profile_rows
from .results import ATTENTION, FileResult, RunSummary, attention
from .tables import profile_table

SAMPLE_FILES = 5
ROWS = "report.files.jsonl"   # one line per file (the rows of report.json's "files"), then {"end": ...}
PAGE_TEMPLATES = ("report.html.j2", "style.css.j2", "pixels.html.j2", "uncleaned.html.j2")   # the page and what it includes
PARTIAL = ".partial"          # the rows' file is named so until the report is written


class RunReport:
    """The key holders' report of one run, written into `folder` (created owner-only, as is its parent).

    `options` is the profile applied, `inputs` the input paths (recorded only `with_originals`: linkage
    on), `output` the destination folder as text (or None). add() takes each FileResult as it finishes
    (its row goes to report.files.jsonl.partial; memory stays flat), write() produces report.json and
    report.html at the end. Raises keys.UnsafeFolderError (a ValueError) if `folder` or its parent is not
    safe for secrets, OSError when it cannot be created."""
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
        self.file_count = 0
        self.rows_path = self.folder / (ROWS + PARTIAL)
        self._rows = _open_private(self.rows_path, "a")
        self.samples: list = []
        self.pixels: list = []   # every image blanked or not proven clean: regions, thumbnails' file names
        self.pixels_checked = 0  # images Clean Pixel Data looked at (found nothing, or cleaned)
        self.uncleaned: list = []   # images held for burned-in risk with Clean Pixel Data off: a whole view each
        self.review = collections.Counter()
        self.review_values: dict = {}
        self.attributes = {what: collections.Counter() for what in ("removed", "replaced", "kept")}

    def add(self, result: FileResult) -> None:
        """Called for each file as it finishes. Per file it keeps the outcome and counts; what
        changed is counted per attribute across files, so memory stays flat; a few sample files
        keep their before/after values."""
        row = {"number": self.file_count + 1, "source": self._source(result), "status": result.status,
                           "attention": attention(result),
                           "reason": result.reason if self.with_originals else reason_kind(result.reason),
                           "output": result.output, "removed": len(result.removed),
                           "replaced": len(result.replaced), "kept": len(result.kept),
                           "review": len(result.review), "held": result.held,
                           "needs_review": [item.reason if self.with_originals else reason_kind(item.reason)
                                            for item in result.review if item.kept_in_output]}
        self.file_count += 1
        for what, counter in self.attributes.items():
            counter.update(_attribute_name(path) for path in getattr(result, what))
        if self.with_originals and result.changes and len(self.samples) < SAMPLE_FILES:
            self.samples.append({"source": result.source, "output": result.output,
                                 "changes": [c.to_dict() for c in result.changes]})
        if "frames" in result.pixel:   # Clean Pixel Data ran (overlay-only results carry overlay_regions)
            self.pixels_checked += 1
            if result.pixel.get("changed") or not result.pixel.get("proven", result.pixel.get("verified")):
                self._add_pixels(result, row)
        elif result.pixel.get("not_cleaned"):
            self._add_uncleaned(result, row)
        if result.pixel.get("overlay_regions"):
            row["overlay_regions_blanked"] = result.pixel["overlay_regions"]
        self._rows.write(json.dumps(row, ensure_ascii=False) + "\n")
        for item in result.review:
            key = (item.path, item.reason)
            self.review[key] += 1
            self.review_values.setdefault(key, item.value)

    def _source(self, result: FileResult) -> str:
        """The input's path, or (linkage off) its number in this run: the path may name the patient."""
        return result.source if self.with_originals else f"input #{self.file_count + 1}"

    def _add_pixels(self, result: FileResult, row: dict) -> None:
        """A cleaned image: its regions, and its pictures (report_images) written now as files beside
        the report (images/<n>-*.png; owner-only), so that memory stays flat."""
        from .report_images import write_pictures
        pixel = {k: v for k, v in result.pixel.items() if not k.endswith("_png")}
        pixel.update(source=row["source"], output=result.output, file=row["number"])
        if not self.with_originals:   # what was read in the pixels is identity: only with originals
            for key in ("regions", "kept", "unexplained"):
                pixel[key] = [{k: v for k, v in r.items() if k != "text"} for r in pixel.get(key, [])]
        number = len(self.pixels) + 1
        pictures = {"after": result.pixel.get("after_png", b"")}
        if self.with_originals:   # the "before" picture shows what was burned in
            pictures["before"] = result.pixel.get("before_png", b"")
        # each frame text was found on, for its regions' crops (the "before" ones only with originals)
        frames = {frame: {when: data for when, data in sides.items() if when in pictures}
                  for frame, sides in result.pixel.get("frames_png", {}).items()}
        if any(pictures.values()):
            make_private_dir(self.folder / "images")
            pixel.update(write_pictures(self.folder, number, pictures, pixel.get("regions", []),
                                        _write_private_bytes, frames=frames,
                                        shown_frame=result.pixel.get("shown_frame", 0)))
        pixel["number"] = number
        row["image"] = number
        self.pixels.append(pixel)

    def _add_uncleaned(self, result: FileResult, row: dict) -> None:
        """An image held for its burned-in risk, Clean Pixel Data off (pixel_stage.uncleaned_picture): the
        whole first frame as written, only with originals (it may show burned-in identity), as
        images/u<n>.png (owner-only). Without a picture (no linkage, no [pixels] extra, undecodable) the
        entry says why none is shown."""
        number = len(self.uncleaned) + 1
        entry = {"number": number, "file": row["number"], "source": row["source"], "output": result.output,
                 "reasons": list(result.pixel.get("reasons", []))}
        png = result.pixel.get("before_png", b"") if self.with_originals else b""
        if png:
            make_private_dir(self.folder / "images")
            name = f"images/u{number}.png"
            _write_private_bytes(self.folder / name, png)
            entry["width"], entry["height"] = struct.unpack(">II", png[16:24])   # the PNG's IHDR chunk
            entry["image"] = name
        else:
            entry["why_none"] = ("no linkage: the image may show identity" if not self.with_originals and
                                 result.pixel.get("before_png") else
                                 "the pixels could not be decoded here: the [pixels] extra decodes them, up to 256 MB")
        row["uncleaned_image"] = number
        self.uncleaned.append(entry)

    def prepare_page(self) -> None:
        """Load Jinja2 and compile the page's templates now (pages.prepare), e.g. while a run's last files
        finish, so that write() only fills them in. Never raises: without Jinja2 or with a broken
        template, write() meets the same error and handles it (a missing Jinja2 is said once, there)."""
        try:
            from .pages import prepare
            prepare(*PAGE_TEMPLATES)
        except Exception as error:   # ImportError, jinja2.TemplateError: write() says it
            logging.getLogger(__name__).debug("report page not prepared (%s)", type(error).__name__)

    def write(self, summary: RunSummary) -> tuple[Path, Path]:
        """Write report.json and report.html (owner-only) into the report folder; returns their paths.
        Without Jinja2, or with its templates not installed, only report.json is written and both paths
        name it (a warning is logged)."""
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
            "files": _FILES,
            "samples": self.samples,
            "pixels": self.pixels,
            "pixels_checked": self.pixels_checked,
            "uncleaned_images": self.uncleaned,
        }
        json_path = self.folder / "report.json"
        html_path = self.folder / "report.html"
        self._rows.close()
        head, tail = json.dumps(document, indent=1, ensure_ascii=False).split(json.dumps(_FILES, ensure_ascii=False), 1)
        attending = []   # the page lists only the files that need a person: kept from the one pass over the rows
        with _open_private(json_path, "w") as stream:   # what json.dumps(document, indent=1) gives, row by row
            stream.write(head)
            _write_rows(stream, self.rows(), attending)
            stream.write(tail)
        from .pages import PageTemplateMissing
        try:
            page = render_html(dict(document, files=attending))
        except PageTemplateMissing as error:   # an install without templates/: the run's work stands
            logging.getLogger(__name__).warning("%s; only %s was written", error, json_path.name)
            return json_path, json_path
        except ImportError:
            # Jinja2 missing: Slicer does not bundle it (5.8, 5.10, main). The run has done its work and
            # report.json holds everything; the page is what is missing, and the run says so.
            logging.getLogger(__name__).warning("the HTML report needs Jinja2 (pip install jinja2): only %s "
                                                "was written", json_path.name)
            return json_path, json_path
        finally:
            self._finish_rows(summary)
        _write_private(html_path, page)
        return json_path, html_path

    def rows(self):
        """The file rows recorded so far (report.json's "files"), read back one at a time."""
        path = self.rows_path if self.rows_path.exists() else self.folder / ROWS
        return read_rows(path)

    def _finish_rows(self, summary: RunSummary) -> None:
        """The rows' last line says the report was written, and whether the run was cancelled; then
        the file loses its ".partial"."""
        with open(self.rows_path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps({"end": _now(), "files": self.file_count, "cancelled": summary.cancelled}) + "\n")
        final = self.folder / ROWS
        os.replace(self.rows_path, final)
        self.rows_path = final


_FILES = "\u2063files\u2063"   # stands for the rows in the document until they are streamed in


def read_rows(path: Path):
    """The file rows of a report.files.jsonl (or its .partial) one at a time, without the {"end"} line.
    Raises ValueError for a line that is not JSON (a run killed mid-line leaves one at the end of
    a .partial file)."""
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            row = json.loads(line)
            if "end" not in row:
                yield row


def _write_rows(stream, rows, attending: list | None = None) -> None:
    """A JSON list of `rows` as json.dumps(..., indent=1) writes it as the value of a top-level key;
    the rows with an "attention" are appended to `attending`."""
    first = True
    for row in rows:
        stream.write("[\n  " if first else ",\n  ")
        stream.write(_indented(row, "  "))
        first = False
        if attending is not None and row.get("attention"):
            attending.append(row)
    stream.write("[]" if first else "\n ]")


_string = json.encoder.encode_basestring   # json's own C encoder of a string (ensure_ascii=False)
_other = json.JSONEncoder(ensure_ascii=False).encode


def _leaf(value) -> str:
    """A string, number, true/false or null as json.dumps writes it."""
    kind = value.__class__
    if kind is str:
        return _string(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    return _other(value)   # a float (inf, nan: as json writes them), a subclass


def _indented(value, margin: str) -> str:
    """json.dumps(value, indent=1, ensure_ascii=False) with each line after the first prefixed by `margin`,
    byte for byte: json's own indented encoder is pure Python (~50 us a row); here only dicts and lists
    are walked in Python and every other value goes to the C encoder (~4x faster for the report's rows)."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = margin + " "
        return ("{\n" + ",\n".join(f"{inner}{_leaf(_key(k))}: {_indented(v, inner)}" for k, v in value.items())
                + "\n" + margin + "}")
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        inner = margin + " "
        return "[\n" + ",\n".join(inner + _indented(v, inner) for v in value) + "\n" + margin + "]"
    return _leaf(value)


def _key(key) -> str:
    """A dict key as json writes it: a string as is, a number or true/false/null as its JSON text."""
    return key if isinstance(key, str) else json.dumps(key)


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


def _open_private(path: Path, mode: str):
    """A text file open for writing ("w") or appending ("a"), owner-only when it is created."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, 0o600), mode, encoding="utf-8")


def _write_private(path: Path, text: str) -> None:
    _write_private_bytes(path, text.encode("utf-8"))


def render_html(doc: dict) -> str:
    """The report page (templates/report.html.j2) of a report document (what report.json holds)."""
    from .pages import render
    files = doc["files"]
    attributes = doc["attributes"]
    return render("report.html.j2", doc=doc,
                  groups=[(kind, [f for f in files if f.get("attention") == kind]) for kind in ATTENTION],
                  attention_files=[f for f in files if f.get("attention")],
                  profile_rows=profile_rows(doc["profile"]),   # each setting by its label (options.OptionInfo)
                  attribute_rows=[(name, attributes["removed"].get(name, ""), attributes["replaced"].get(name, ""),
                                   attributes["kept"].get(name, ""))
                                  for name in sorted(set().union(*attributes.values()))])


def cleaned_images(report_json: Path) -> list:
    """[{"source", "before", "after", "regions", "verified"}] of a run's cleaned images, small copies
    (192 pixels wide) as absolute paths ("before" is None when the run kept no originals): what a
    viewer shows side by side; "before_full", "after_full": the frames at full resolution."""
    report_json = Path(report_json)
    document = json.loads(report_json.read_text(encoding="utf-8"))
    folder = report_json.parent
    return [{"source": p["source"], "regions": p["regions"], "verified": p.get("proven", p["verified"]),
             "before": str(folder / p["before_thumbnail"]) if p.get("before_thumbnail") else None,
             "after": str(folder / p["after_thumbnail"]) if p.get("after_thumbnail") else None,
             "before_full": str(folder / p["before_image"]) if p.get("before_image") else None,
             "after_full": str(folder / p["after_image"]) if p.get("after_image") else None}
            for p in document.get("pixels", [])]
