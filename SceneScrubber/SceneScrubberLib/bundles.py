"""Scrub and check saved scenes without Slicer: a .mrml file, a scene folder, or an .mrb bundle.

What is rewritten: every .mrml (see mrml_scrubber) and the header of every NRRD
file (vtkMRMLNRRDStorageNode copies node attributes, DICOM.* included, into it as
'key:=value' lines). Data files named after a node whose name held an identifying
value get that node's neutral name (the scene's reference and a detached header's
'data file' line follow). Every other file is copied with its content unchanged.

An .mrb is a zip archive, and archives are read defensively: a member whose name
is absolute, contains '..', is a link, or appears twice is refused, and so is an
archive that does not open or whose content would exceed a size limit. Nothing
is ever written outside the output, and outputs are written atomically.
"""
from __future__ import annotations

import os
import posixpath
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .mrml_scrubber import SceneError, ScrubReport, file_suffixes, scrub_mrml
from .phi_attributes import search_forms
from .policy import ScrubPolicy

NRRD_SUFFIXES = (".nrrd", ".nhdr")
MAX_BUNDLE_BYTES = 64 * 1024 ** 3   # uncompressed: a zip bomb is refused before anything is written
MAX_HEADER_BYTES = 1024 * 1024


@dataclass
class SceneResult:
    output: Path
    report: ScrubReport = field(default_factory=ScrubReport)
    scrubbed_files: list = field(default_factory=list)   # names of files rewritten


def scrub_nrrd_header(data: bytes, policy: ScrubPolicy | None = None) -> tuple:
    """(data with the header's DICOM.* 'key:=value' lines scrubbed by the policy, the values taken out)."""
    policy = policy or ScrubPolicy()
    end = _header_end(data)
    if end is None:
        return data, []
    kept, removed = [], []
    for line in data[:end].split(b"\n"):
        key, separator, value = line.partition(b":=")
        if not separator:
            kept.append(line)
            continue
        name, text = key.decode("latin-1").strip(), value.decode("latin-1").strip()
        new = policy.attribute(name, text)
        if new != text:
            removed.append(text)
        if new is not None:
            kept.append(key + b":=" + new.encode("latin-1"))
    return b"\n".join(kept) + data[end:], removed


def _header_end(data: bytes):
    """Where a NRRD header ends (its blank line; the end for a detached header), or None if the
    data is not a NRRD file."""
    if not data.startswith(b"NRRD"):
        return None
    end = data.find(b"\n\n", 0, MAX_HEADER_BYTES)
    if end >= 0:
        return end
    return len(data) if len(data) < MAX_HEADER_BYTES else None


def scrub_scene(source: Path, output: Path, policy: ScrubPolicy | None = None) -> SceneResult:
    """Scrub a .mrml file, a scene folder or an .mrb into `output` (which must not exist)."""
    source, output = Path(source), Path(output)
    policy = policy or ScrubPolicy()
    if output.exists():
        raise SceneError(f"{output} exists already: choose a new output")
    if source.is_dir():
        return _scrub_folder(source, output, policy)
    if source.suffix.lower() == ".mrb":
        return _scrub_bundle(source, output, policy)
    if source.suffix.lower() == ".mrml":
        data, report = scrub_mrml(source.read_bytes(), policy)
        _write_atomically(output, data)
        return SceneResult(output, report, [source.name])
    raise SceneError(f"{source}: not a .mrml file, a scene folder or an .mrb bundle")


@dataclass
class _Plan:
    """What a scene's files become, decided before anything is copied: the scrubbed scene files
    (small, read whole), new names for data files named after identifying values, and the
    'data file:' line of each renamed NRRD header that points at a renamed data file."""
    scenes: dict = field(default_factory=dict)       # name -> scrubbed .mrml bytes
    renames: dict = field(default_factory=dict)      # old name -> new name
    data_lines: dict = field(default_factory=dict)   # header name -> (old data file, new data file)
    policy: ScrubPolicy = field(default_factory=ScrubPolicy)


def _plan(names: list, read, result: SceneResult, policy: ScrubPolicy) -> _Plan:
    plan = _Plan(policy=policy)
    for name in names:
        if name.lower().endswith(".mrml"):
            data, report = scrub_mrml(read(name), policy)
            plan.scenes[name] = data
            _merge(result.report, report)
            result.scrubbed_files.append(name)
            folder = posixpath.dirname(name)
            for old, new in report.renamed_files.items():
                plan.renames[posixpath.normpath(posixpath.join(folder, old))] = posixpath.normpath(
                    posixpath.join(folder, new))
    for old, new in list(plan.renames.items()):
        if old.lower().endswith(".nhdr") and old in names:
            data_file = _data_file(read(old)[:MAX_HEADER_BYTES])
            if data_file and "/" not in data_file:
                new_data = posixpath.splitext(posixpath.basename(new))[0] + file_suffixes(data_file)
                plan.renames[posixpath.join(posixpath.dirname(old), data_file)] = posixpath.join(
                    posixpath.dirname(new), new_data)
                plan.data_lines[old] = (data_file, new_data)
    targets = [plan.renames.get(name, name) for name in names]
    if len(set(targets)) != len(targets):
        raise SceneError("giving data files neutral names would make two files one: refused")
    return plan


def _data_file(header: bytes) -> str:
    """The single detached data file a NRRD header names ('' for none, a list or a pattern)."""
    match = re.search(rb"^data ?file: ?([^\n]+)$", header.split(b"\n\n")[0], re.MULTILINE)
    value = match.group(1).decode("latin-1").strip() if match else ""
    if value.startswith("LIST") or re.search(r"%\d*d", value):
        return ""   # several files: left as they are (the check reports a name that identifies)
    return value


def _copy_member(name: str, source, target, plan: _Plan, result: SceneResult) -> None:
    """Copy one file from stream to stream: a scene as planned, a NRRD header scrubbed (and its
    data file line renamed; the data streamed after it), anything else streamed as it is.
    Memory stays small for large volumes."""
    if name in plan.scenes:
        target.write(plan.scenes[name])
        return
    if name.lower().endswith(NRRD_SUFFIXES):
        head = source.read(MAX_HEADER_BYTES)
        scrubbed, removed = scrub_nrrd_header(head, plan.policy)
        if removed:
            result.report.identifying_values.update(removed)
            result.report.removed_attributes += len(removed)
            result.scrubbed_files.append(name)
        if name in plan.data_lines:
            old, new = plan.data_lines[name]
            scrubbed = re.sub(rb"^(data ?file: ?)" + re.escape(old.encode("latin-1")) + rb"$",
                              lambda match: match.group(1) + new.encode("latin-1"), scrubbed, count=1, flags=re.M)
        target.write(scrubbed)
    shutil.copyfileobj(source, target, 1 << 20)


def _scrub_folder(source: Path, output: Path, policy: ScrubPolicy) -> SceneResult:
    result = SceneResult(output)
    paths = sorted(source.rglob("*"))
    for path in paths:
        if path.is_symlink():
            raise SceneError(f"{path.relative_to(source)}: a link in a scene folder is not followed")
    files = [path.relative_to(source).as_posix() for path in paths if path.is_file()]
    if not any(name.lower().endswith(".mrml") for name in files):
        raise SceneError(f"{source}: no .mrml scene file in the folder")
    plan = _plan(files, lambda name: (source / name).read_bytes(), result, policy)
    temporary = output.with_name(f".{output.name}.partial")
    shutil.rmtree(temporary, ignore_errors=True)
    try:
        temporary.mkdir(parents=True)
        for name in files:
            target = temporary / plan.renames.get(name, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(source / name, "rb") as reader, open(target, "wb") as writer:
                _copy_member(name, reader, writer, plan, result)
        os.replace(temporary, output)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return result


def _scrub_bundle(source: Path, output: Path, policy: ScrubPolicy) -> SceneResult:
    result = SceneResult(output)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise SceneError(f"{source}: not a readable .mrb (zip) archive: {error}") from None
    with archive:
        temporary = output.with_name(f".{output.name}.partial")
        try:
            members = _checked_members(archive, source)
            files = [m.filename for m in members if not m.is_dir()]
            if not any(name.lower().endswith(".mrml") for name in files):
                raise SceneError(f"{source}: no .mrml scene file in the bundle")
            plan = _plan(files, archive.read, result, policy)
            with zipfile.ZipFile(temporary, "w") as target:
                for member in members:
                    copy = zipfile.ZipInfo(plan.renames.get(member.filename, member.filename),
                                           date_time=member.date_time)
                    copy.compress_type, copy.external_attr = member.compress_type, member.external_attr
                    if member.is_dir():
                        target.writestr(copy, b"")
                        continue
                    with archive.open(member) as reader, target.open(copy, "w", force_zip64=True) as writer:
                        _copy_member(member.filename, reader, writer, plan, result)
            os.replace(temporary, output)
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as error:
            temporary.unlink(missing_ok=True)
            raise SceneError(f"{source}: damaged archive: {error}") from None
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    return result


def _checked_members(archive: zipfile.ZipFile, source: Path) -> list:
    members, seen, total = archive.infolist(), set(), 0
    for member in members:
        name = member.filename
        path = PurePosixPath(name.replace("\\", "/"))
        if path.is_absolute() or re.match(r"^[A-Za-z]:", name) or ".." in path.parts:
            raise SceneError(f"{source}: member {name!r} would be written outside the bundle: refused")
        if stat.S_ISLNK(member.external_attr >> 16):
            raise SceneError(f"{source}: member {name!r} is a link: refused")
        if name in seen:
            raise SceneError(f"{source}: member {name!r} appears twice: refused")
        seen.add(name)
        total += member.file_size
        if total > MAX_BUNDLE_BYTES:
            raise SceneError(f"{source}: content larger than {MAX_BUNDLE_BYTES} bytes: refused")
    return members


def _merge(into: ScrubReport, other: ScrubReport) -> None:
    into.removed_attributes += other.removed_attributes
    into.removed_uids += other.removed_uids
    into.renamed_items += other.renamed_items
    into.identifying_values |= other.identifying_values


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_bytes(data)
    os.replace(temporary, path)


# -- checking what was written --------------------------------------------------------------------

@dataclass
class Finding:
    file: str
    term: str
    offset: int


def scene_files(source: Path):
    """(name, bytes) of every file of a .mrml, a scene folder or an .mrb (read defensively)."""
    source = Path(source)
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.is_symlink()):
            yield str(path.relative_to(source)), path.read_bytes()
    elif source.suffix.lower() == ".mrb":
        try:
            with zipfile.ZipFile(source) as archive:
                for member in _checked_members(archive, source):
                    if not member.is_dir():
                        yield member.filename, archive.read(member)
        except (zipfile.BadZipFile, EOFError) as error:
            raise SceneError(f"{source}: damaged archive: {error}") from None
    else:
        yield source.name, source.read_bytes()


def identifying_terms(source: Path, policy: ScrubPolicy | None = None) -> set:
    """The identifying values a scene's own .mrml files hold (what scrubbing with `policy` takes out)."""
    terms = set()
    for name, data in scene_files(source):
        if name.lower().endswith(".mrml"):
            terms |= scrub_mrml(data, policy)[1].identifying_values
    return terms


def check_scene(source: Path, terms) -> list:
    """Every place where one of `terms` stands in any file of the scene (case-insensitive)."""
    needles = {}
    for term in terms:
        for variant in search_forms(term):
            needles.setdefault(variant.lower().encode("utf-8"), term)
    findings = []
    for name, data in scene_files(source):
        lowered = data.lower()
        for needle, term in needles.items():
            offset = lowered.find(needle)
            if offset >= 0:
                findings.append(Finding(name, term, offset))
    return findings
