"""Scrub saved scenes without Slicer: a .mrml file (with the files it references), a scene folder, or an .mrb bundle.

What is rewritten: every .mrml (see mrml_scrubber), the header of every NRRD
file (vtkMRMLNRRDStorageNode copies node attributes, DICOM.* included, into it as
'key:=value' lines), and scene screenshots (blanked: see screenshots). Data files
named after a node whose name held an identifying value get that node's neutral
name (the scene's reference and a detached header's 'data file' lines follow);
data stored outside the scene folder moves into its 'Data/' folder. Text files
(decided by content: text_encodings) have every spelling replaced; VTK XML files
(closed-surface segmentations, models) are rewritten by VTK (vtk_xml_files); a
bundle inside the scene (a sequence's '.seq.mrb') is scrubbed in turn. Every other
file is copied with its content unchanged, streamed.

Outputs: an .mrb when the output name ends in .mrb (an .mrb input needs one; the
inner folder of a bundle packed from a folder is the output's name without identity), a
.mrml with its files beside it when input and output are .mrml files (a .mrml output needs a
.mrml input), else a folder; the output's kind is checked before anything is written. Nothing is ever written outside the output, outputs are written to a
temporary name first, and an existing output is never replaced.
"""
from __future__ import annotations

import gzip
import os
import posixpath
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .identity_matcher import IdentityMatcher
from .mrml_scrubber import SceneError, ScrubReport, file_suffixes, neutral_path, report_matchers, scrub_mrml
from .detached_headers import data_files as header_data_files, is_detached_header, with_data_files
from .node_ids import BUILT_IN_COLOR_NAMES
from .policy import ScrubPolicy
from .scene_sources import SceneSource, described, named_errors, open_scene, storage_references_by_node
from .screenshots import blanked, screenshot_names
from .text_encodings import SNIFF_BYTES, decoded, encoded, is_text
from .identity_matcher import REPLACEMENT
from .structure_values import is_json, is_slicer_header_key, json_text_hits, nrrd_structure_line
from .table_cells import redact_cells
from .temporary_outputs import fresh_file, fresh_folder
from . import compressed_files, text_headers, vtk_legacy_files, vtk_references, vtk_xml_files

NRRD_SUFFIXES = (".nrrd", ".nhdr")
# Sequence files store each frame's node attributes as "axis 3 item 0025 <attribute>:=<value>"
# (vtkMRMLVolumeSequenceStorageNode): the attribute is what follows the prefix.
_FRAME_PREFIX = re.compile(r"^axis \d+ item \d+ ")
MAX_HEADER_BYTES = 1024 * 1024
MAX_NRRD_HEADER_BYTES = 64 << 20   # a longer NRRD header is refused (read_nrrd_header)
MAX_TEXT_BYTES = 64 << 20   # a larger text file is copied as it is (and the check reports what it holds)


@dataclass
class SceneResult:
    """What scrubbing one scene gave: the output written, the scrub report, and the files rewritten,
    screenshots blanked, files missing from the input, brought in from an allowed folder, or made relative
    (names as the scene gives them, never opened again)."""
    output: Path
    report: ScrubReport = field(default_factory=ScrubReport)
    scrubbed_files: list = field(default_factory=list)   # names of files rewritten
    blanked_screenshots: list = field(default_factory=list)
    missing_files: list = field(default_factory=list)    # referenced by the scene, not in the input
    brought_in: list = field(default_factory=list)       # read from an allowed folder outside the scene's, now in Data/
    made_relative: list = field(default_factory=list)    # inside the scene's folder but named by an absolute path


def scrub_nrrd_header(data: bytes, policy: ScrubPolicy | None = None, matcher: IdentityMatcher | None = None) -> tuple:
    """(data with the header's DICOM.* 'key:=value' lines, per-frame ones of sequences included, scrubbed
    by the policy, the values taken out). With a matcher, every other header line (segment names
    and tags, other node attributes, comments) has each spelling of an identifying value replaced;
    the 'data file' line is left to the renaming of files."""
    policy = policy or ScrubPolicy()
    end = _header_end(data)
    if end is None:
        return data, []
    kept, removed, file_list = [], [], False
    for line in data[:end].split(b"\n"):
        key, separator, value = line.partition(b":=")
        if not separator:
            data_file = re.match(rb"^data ?file: ?(.*)$", line)
            file_list = file_list or bool(data_file and data_file.group(1).startswith(b"LIST"))
            text = line.decode("utf-8", "surrogateescape")
            # file names stay as the files are named; the format's fields are structure (structure_values)
            if matcher and not data_file and not file_list and not nrrd_structure_line(text):
                line = matcher.redact(text).encode("utf-8", "surrogateescape")
            kept.append(line)
            continue
        name, text = key.decode("latin-1").strip(), value.decode("latin-1").strip()
        new = policy.attribute(_FRAME_PREFIX.sub("", name), text)
        if matcher and new is not None and not is_slicer_header_key(name):
            # a node attribute's name ('note DOE_JOHN'), as in the .mrml; Slicer's own keys stay
            key = matcher.redact(key.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        if new != text:
            removed.append(text)
        if new is not None:
            if matcher and new.strip().lower() not in BUILT_IN_COLOR_NAMES:   # "Color:=grey" is vocabulary; UTF-8 (names typed in Slicer); bytes that are not stay as they are
                new = matcher.redact(new.encode("latin-1").decode("utf-8", "surrogateescape"))
                kept.append(key + b":=" + new.encode("utf-8", "surrogateescape"))
            else:
                kept.append(key + b":=" + new.encode("latin-1"))
    return b"\n".join(kept) + data[end:], removed


def _header_end(data: bytes):
    """Where a NRRD header ends (its blank line; the end for a detached header, read whole by
    read_nrrd_header), or None if the data is not a NRRD file."""
    if not data.startswith(b"NRRD"):
        return None
    end = data.find(b"\n\n")
    return end if end >= 0 else len(data)


def read_nrrd_header(stream, first: bytes = b"") -> bytes:
    """The first bytes of a NRRD file, its whole header among them: read until the blank line that
    ends it, or the end of a detached header, up to MAX_NRRD_HEADER_BYTES (a header is text; a big
    node attribute makes it large, and Teem reads any length). SceneError for a longer header:
    what is not read is neither scrubbed nor called clean. Data that is no NRRD: its first chunk.
    `first`: bytes read from the stream already."""
    data = first + stream.read(MAX_HEADER_BYTES)
    if not data.startswith(b"NRRD"):
        return data
    while b"\n\n" not in data and len(data) <= MAX_NRRD_HEADER_BYTES:
        more = stream.read(MAX_HEADER_BYTES)
        if not more:
            break   # a detached header: the whole file
        data += more
    end = data.find(b"\n\n")
    if (end if end >= 0 else len(data)) > MAX_NRRD_HEADER_BYTES:
        raise SceneError(f"a NRRD header is longer than {MAX_NRRD_HEADER_BYTES >> 20} MiB, which the scrubber "
                         "does not read: refused")
    return data


def scrub_scene(source: Path, output: Path, policy: ScrubPolicy | None = None, allowed_folders=(),
                terms=(), values=(), _depth: int = 0, _path_values=()) -> SceneResult:
    """Scrub a .mrml file, a scene folder or an .mrb into `output` (which must not exist).
    `allowed_folders`: folders outside the scene's own whose data its storage nodes may bring in
    (see scene_sources); `terms`: more identifying values to take out (the user's own, 3+
    characters); `values`: more values known to identify, with the rules of scene values (a live
    scene's, after Slicer saved it scrubbed). SceneError for anything refused or unreadable, before
    the output exists. A bundle inside the scene (a sequence saved as '.seq.mrb') is scrubbed the
    same way, with the same policy and the outer scene's values (`_depth`: how many bundles enclose
    this one; scene_sources.MAX_NESTING bounds it)."""
    source, output = Path(source), Path(output)
    policy = policy or ScrubPolicy()
    if os.path.lexists(output):
        raise SceneError("the output exists already: choose a new output")
    # the output's kind follows from its name: checked before anything is written
    if source.suffix.lower() == ".mrb" and output.suffix.lower() != ".mrb":
        raise SceneError("an .mrb is scrubbed into an .mrb: give an output whose name ends in .mrb")
    if output.suffix.lower() == ".mrml" and source.suffix.lower() != ".mrml":
        raise SceneError("an output ending in .mrml needs a .mrml input (a scene folder is written to a folder "
                         "or an .mrb)")
    # a bundle is written into an existing folder (a folder or .mrml output makes its parents)
    if (output.suffix.lower() == ".mrb" or source.suffix.lower() == ".mrb") and not os.path.isdir(output.parent):
        raise SceneError("the output's folder does not exist (or is no folder): choose an existing folder")
    with open_scene(source, allowed_folders, _depth) as scene, \
            tempfile.TemporaryDirectory(prefix="scene-scrubber-") as work:
        result = SceneResult(output)
        plan = _plan(scene, result, policy, terms, values, Path(work), _depth, _path_values)
        try:
            if output.suffix.lower() == ".mrb" or scene.archive is not None:
                _write_bundle(scene, plan, output, result)
            elif source.suffix.lower() == ".mrml" and output.suffix.lower() == ".mrml":
                _write_beside(scene, plan, output, result)
            else:
                _write_folder(scene, plan, output, result)
        except OSError as error:   # reading the input raises SceneError: an OSError here is the output's
            raise SceneError(f"the output cannot be written: {error.strerror or type(error).__name__}") from None
    return result


@dataclass
class _Plan:
    """What a scene's files become, decided before anything is copied: the scrubbed scene files
    (small, read whole), new names (neutral names, external data moved into Data/, folders and
    files named after an identifying value), the 'data file:' line of each renamed NRRD header
    that points at a renamed data file, which files are screenshots, and the matcher that takes
    identifying values out of headers and text files."""
    scenes: dict = field(default_factory=dict)       # name -> scrubbed .mrml bytes
    renames: dict = field(default_factory=dict)      # old name -> new name
    data_lines: dict = field(default_factory=dict)   # header name -> {old written data file: new} (with_data_files)
    screenshots: set = field(default_factory=set)
    policy: ScrubPolicy = field(default_factory=ScrubPolicy)
    matcher: IdentityMatcher = field(default_factory=IdentityMatcher)        # contents
    path_matcher: IdentityMatcher = field(default_factory=IdentityMatcher)   # names: descriptions too
    generated: dict = field(default_factory=dict)    # name -> file written by VTK (vtk_xml_files) to copy instead

    def target(self, name: str) -> str:
        return self.renames.get(name, name)


def _plan(scene: SceneSource, result: SceneResult, policy: ScrubPolicy, terms=(), values=(), work: Path = None,
          depth: int = 0, path_values=()) -> _Plan:
    plan = _Plan(policy=policy)
    names = scene.names
    scene_view_images = set()
    for name in scene.scene_names():
        data, report = scrub_mrml(scene.read(name), policy, terms, values)
        plan.scenes[name] = data
        _merge(result.report, report)
        result.scrubbed_files.append(name)
        folder = posixpath.dirname(name)
        for old, new in report.renamed_files.items():
            plan.renames[_join(folder, old)] = _join(folder, new)
        scene_view_images |= {_join(folder, image) for image in report.screenshot_files}
    terms = set(terms) | result.report.identifier_values   # IDs at any length, as terms (phi_attributes)
    plan.matcher, plan.path_matcher = report_matchers(result.report, values, terms)   # the live scene's rule too
    if path_values:
        plan.path_matcher = report_matchers(result.report, set(values) | set(path_values), terms)[1]
    if work is not None:
        _plan_nested_bundles(scene, plan, result, work, depth, terms, set(values), set(path_values))
    result.missing_files = sorted(old for old in plan.renames if old not in names)
    data_files = _data_files(scene, names)
    for header, (found, entries) in data_files.items():
        new_header = plan.target(header)
        for index, (reference, old_data) in enumerate(entries):
            new_data = _data_file_name(found, index, reference, header, new_header)
            if new_data is not None:
                plan.renames[old_data] = posixpath.join(posixpath.dirname(new_header), new_data)
    result.missing_files += sorted({old_data for _found, entries in data_files.values() for _reference, old_data in entries
                                    if old_data not in names and old_data not in result.missing_files})
    # every file a storage node names that the input lacks (a volume that would be silently gone)
    for scene_name in scene.scene_names():
        folder = posixpath.dirname(scene_name)
        for _node, reference in storage_references_by_node(scene.read(scene_name)):
            referenced = _join(folder, reference.replace("\\", "/"))
            if referenced not in names and referenced not in result.missing_files:
                result.missing_files.append(referenced)
    # what the messages say happened: brought in only what was read from outside; a file inside the
    # scene's folder named by an absolute path stays the scene's own (its reference is now relative)
    result.brought_in = sorted(name for name in scene.brought_in if name in names)
    result.made_relative = sorted(name for name in names if os.path.isabs(name) and name not in scene.brought_in)
    plan.screenshots = screenshot_names(names, scene.scene_names(), scene_view_images)
    # Every name, renamed or not, loses what still names an identifying value ('Doe Jonathan/...',
    # 'DOE_JOHN_chest/'): one function of the path, so folders stay together and the scene's
    # relative references (renamed the same way in the .mrml) still point at their files.
    for name in set(names) | set(plan.renames):
        neutral = neutral_path(plan.target(name), plan.path_matcher)
        if neutral != name:
            plan.renames[name] = neutral
    if work is not None:
        _plan_vtk_files(scene, plan, work)
        _plan_vtk_legacy_files(scene, plan, work)
    for header, (found, entries) in data_files.items():   # the header's lines follow its data files
        lines = _data_lines(found, entries, header, plan)
        if lines:
            plan.data_lines[header] = lines
    targets = [plan.target(name) for name in names]
    # a reference to a file the input lacks must not end up naming another file of the scene
    referenced = [new for old, new in plan.renames.items() if old not in names]
    if len(set(targets)) != len(targets) or set(referenced) & set(targets) or len(set(referenced)) != len(referenced):
        raise SceneError("giving data files neutral names would make two files one: refused")
    for target in targets:
        if PurePosixPath(target).is_absolute() or ".." in PurePosixPath(target).parts:
            raise SceneError("a file would be written outside the output: refused")
    return plan


def _plan_nested_bundles(scene: SceneSource, plan: _Plan, result: SceneResult, work: Path, depth: int, terms: set,
                         values: set, path_values: set) -> None:
    """Each bundle inside the scene (a sequence's '.seq.mrb', whose own scene lists the sequence's
    data nodes: vtkMRMLSequenceStorageNode::WriteDataInternal, WriteToMRB) scrubbed into the work
    folder by scrub_scene itself: the same policy, the outer scene's identifying values and terms
    (so the same spellings go and the same renames happen), one level deeper. Its member is then
    copied from there; what it found counts in this scene's report."""
    for index, name in enumerate(scene.names):
        if not name.lower().endswith(".mrb"):
            continue
        folder = work / f"nested{index}"
        folder.mkdir()
        staged = folder / "in.mrb"   # a neutral name: the member's own can carry the patient's
        with scene.open(name) as reader, open(staged, "wb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
        try:
            inner = scrub_scene(staged, folder / "out.mrb", plan.policy, terms=terms,
                                values=values | result.report.identifying_values, _depth=depth + 1,
                                _path_values=path_values | result.report.descriptive_values)
        except SceneError as error:
            raise SceneError(f"in the bundle inside the scene ({scene._position(name)}): {error}") from None
        _merge(result.report, inner.report)
        result.blanked_screenshots += [f"{name}/{shot}" for shot in inner.blanked_screenshots]
        result.missing_files += [f"{name}/{missing}" for missing in inner.missing_files]
        plan.generated[name] = folder / "out.mrb"


def _plan_vtk_files(scene: SceneSource, plan: _Plan, work: Path) -> None:
    """VTK XML files (vtk_xml_files): each multiblock file (a closed-surface segmentation's .seg.vtm,
    or .seg.vtp) is read with its pieces, every string in them (segment names, tags, block names)
    has each spelling replaced, and it is written again by VTK's writer under its target name, the
    pieces with it (so renamed as the writer names them, '<name>/<name>_<i>.vtp'); poly data files
    that are no piece are rewritten when a string changed. A piece that is missing or lies outside
    its multiblock file's folder is refused; a file VTK cannot read is refused."""
    names = [name for name in scene.names if vtk_xml_files.is_vtk_xml(name)]
    if not names or not (plan.matcher or any(plan.target(name) != name for name in names)):
        return   # nothing could change: VTK is not even needed
    members, staged, claimed = set(scene.names), {}, set()

    def stage(name: str, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with scene.open(name) as reader, open(path, "wb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
        staged[name] = path
        return path

    def stage_pieces(name: str, path: Path, what: str, chain: tuple) -> list:
        """Every piece `name` (staged at `path`) names, checked by content at every level
        (vtk_references: relative, inside its folder, in the scene, no cycle) and staged beside it."""
        found = []
        for reference in vtk_references.references(vtk_references.read_regular(path), what):
            relative = vtk_references.inside(reference, what)
            piece = _join(posixpath.dirname(name), relative)
            if piece not in members:
                raise SceneError(f"a piece that {what} names is not in the scene: refused")
            if piece in chain + (name,):
                raise SceneError(f"{what} names itself as a piece, directly or through another file (a cycle): "
                                 "refused (damaged file)")
            if len(chain) > vtk_references.MAX_LEVELS:
                raise SceneError(f"{what} nests VTK composite files too deep: refused")
            staged_piece = stage(piece, path.parent / relative)
            found.append(piece)
            found += stage_pieces(piece, staged_piece, what, chain + (name,))
        return found

    groups = []
    for index, name in enumerate(names):
        folder = work / f"in{index}"
        top = stage(name, folder / "file" / posixpath.basename(name))
        if not vtk_references.names_files(vtk_references.read_regular(top, vtk_references.HEAD_BYTES)):
            continue
        what = f"VTK multiblock file {scene._position(name)} of the scene"
        every = stage_pieces(name, top, what, ())
        pieces = [_join(posixpath.dirname(name), vtk_references.inside(reference, what))
                  for reference in vtk_references.references(vtk_references.read_regular(top), what)]
        if len(every) != len(pieces):
            raise SceneError(f"{what} has pieces that are composite files themselves, which Slicer never writes "
                             "and the scrubber does not rewrite: refused")
        claimed.update(every)
        groups.append((index, name, top, pieces))
    for index, name, top, pieces in groups:
        data = vtk_xml_files.read(top, f"file {scene._position(name)} of the scene")
        changed = vtk_xml_files.redact(data, plan.matcher.redact)
        target = plan.target(name)
        if not (changed or target != name or any(plan.target(piece) != piece for piece in pieces)):
            continue
        written = work / f"out{index}" / posixpath.basename(target)
        written.parent.mkdir(parents=True)
        vtk_xml_files.write(data, written)
        references = vtk_xml_files.piece_references(written)
        if len(references) != len(pieces):
            raise SceneError(f"VTK multiblock file {scene._position(name)} cannot be rewritten piece for piece: refused")
        plan.generated[name] = written
        for piece, reference in zip(pieces, references):
            plan.renames[piece] = _join(posixpath.dirname(target), reference)
            plan.generated[piece] = written.parent / reference
    for index, name in enumerate(names):
        if name in claimed or any(name == group[1] for group in groups):
            continue
        data = vtk_xml_files.read(staged[name], f"file {scene._position(name)} of the scene")
        if vtk_xml_files.redact(data, plan.matcher.redact):
            written = work / f"out{index}" / posixpath.basename(plan.target(name))
            written.parent.mkdir(parents=True)
            vtk_xml_files.write(data, written)
            plan.generated[name] = written


def _plan_vtk_legacy_files(scene: SceneSource, plan: _Plan, work: Path) -> None:
    """Legacy VTK files (vtk_legacy_files: a model's .vtk): read with VTK's legacy reader; when the
    header, an array's name or a string value holds a spelling, written again by VTK's legacy writer
    (same header form and file type) to copy instead. A file VTK cannot read is refused."""
    names = [name for name in scene.names if vtk_legacy_files.is_vtk_legacy(name)]
    if not names or not plan.matcher:
        return
    for index, name in enumerate(names):
        staged = work / f"legacy{index}" / "in.vtk"   # a neutral name: the member's can carry identity
        staged.parent.mkdir(parents=True)
        with scene.open(name) as reader, open(staged, "wb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
        data, reader = vtk_legacy_files.read(staged, f"file {scene._position(name)} of the scene")
        changed, header = vtk_legacy_files.redact(data, reader, plan.matcher.redact)
        if changed:
            written = staged.with_name("out.vtk")
            vtk_legacy_files.write(data, reader, header, written)
            plan.generated[name] = written


def _join(folder: str, name: str) -> str:
    return name if os.path.isabs(name) else posixpath.normpath(posixpath.join(folder, name))


def _data_files(scene: SceneSource, names: list) -> dict:
    """{header name: (DataFiles, [(each data file as the header writes it, its name in the scene)])} of
    every detached header (.nhdr, .mhd) that names data files (detached_headers: one, a LIST or a
    pattern, expanded)."""
    out = {}
    for header in names:
        if is_detached_header(header):
            with scene.open(header) as stream:
                try:
                    found = header_data_files(stream.read(MAX_HEADER_BYTES), header)
                except ValueError:
                    raise SceneError(f"the data file pattern of header {scene._position(header)} cannot be "
                                     "followed: refused") from None
            if found:
                out[header] = (found, [(reference, _join(posixpath.dirname(header), reference.replace("\\", "/")))
                                       for reference in found.files])
    return out


def _conversion(form: str):
    return re.search(r"%0?\d*d", form)


def _data_file_name(found, index, reference: str, header: str, new_header: str):
    """A data file's new name beside its header, before neutral names: named with the renamed header
    ('<header stem><suffixes>'; a LIST's files '<stem>_<n>', a pattern's '<stem>_%03d' as the
    format's conversion says), or its own base name when it was brought in from outside; None
    when it keeps its place and name. A pattern's format itself with `index` None."""
    leaves = os.path.isabs(reference) or posixpath.normpath(
        posixpath.join(posixpath.dirname(header), reference.replace("\\", "/"))).split("/")[0] == ".."
    stem = posixpath.splitext(posixpath.basename(new_header))[0]
    form = found.written[0] if found.pattern else None
    if new_header != header and "/" not in (form or reference).replace("\\", "/"):
        if form is not None:
            conversion = _conversion(form)
            return _numbered(f"{stem}_{conversion.group(0)}{form[conversion.end():]}", found, index)
        if len(found.files) > 1:
            return f"{stem}_{index + 1:03d}{file_suffixes(reference)}"
        return stem + file_suffixes(reference)
    if leaves:   # brought in beside its header (scene_sources read it from an allowed folder)
        if form is not None:
            return _numbered(posixpath.basename(form.replace("\\", "/")), found, index)
        return posixpath.basename(reference.replace("\\", "/"))
    return None


def _numbered(form: str, found, index):
    """A pattern's file name for its `index`-th file (the format itself for None)."""
    if index is None:
        return form
    low, _high, step = found.pattern
    return form % (low + index * step)


def _data_lines(found, entries: list, header: str, plan: _Plan) -> dict:
    """{old written name: new} for a header whose data files were renamed ({} when none was). A
    pattern stays a pattern: its format goes through the same renaming as its files, and the
    result must name exactly the files' new names, else the scene is refused."""
    folder = posixpath.dirname(plan.target(header)) or "."
    if found.pattern is None:
        lines = {}
        for reference, old_data in entries:
            new_reference = posixpath.relpath(plan.target(old_data), folder)
            if new_reference != reference:
                lines[reference] = new_reference
        return lines
    form = found.written[0]
    new_name = _data_file_name(found, None, form, header, plan.target(header))
    path = (posixpath.join(posixpath.dirname(plan.target(header)), new_name) if new_name is not None
            else _join(posixpath.dirname(header), form.replace("\\", "/")))
    new_form = posixpath.relpath(neutral_path(path, plan.path_matcher), folder)
    low, _high, step = found.pattern
    named = [new_form % (low + index * step) for index in range(len(entries))]
    if named != [posixpath.relpath(plan.target(old_data), folder) for _reference, old_data in entries]:
        raise SceneError("the data files of a header's pattern cannot all be given neutral names in one "
                         "pattern: refused")
    return {form: new_form} if new_form != form else {}


def _copy_member(name: str, source, target, plan: _Plan, result: SceneResult) -> None:
    """Copy one file from stream to stream: a scene as planned, a screenshot blanked, a NRRD header
    scrubbed (DICOM keys by the policy, every other spelling of an identifying value, segment
    names and descriptions included, replaced; its data file line renamed; the data streamed
    after it), a text file (markups JSON, a table's TSV, a text node's file, a color table) with
    every spelling replaced, anything else streamed as it is. Memory stays small for large volumes."""
    if name in plan.scenes:
        target.write(plan.scenes[name])
        return
    if name in plan.generated:   # written by VTK's writer (vtk_xml_files)
        with open(plan.generated[name], "rb") as written:
            shutil.copyfileobj(written, target, 1 << 20)
        result.scrubbed_files.append(name)
        return
    if name in plan.screenshots:
        target.write(blanked(source.read(MAX_HEADER_BYTES)))
        result.blanked_screenshots.append(name)
        return
    if name.lower().endswith(NRRD_SUFFIXES):
        head = read_nrrd_header(source)   # the whole header, however long (bounded)
        scrubbed, removed = scrub_nrrd_header(head, plan.policy, plan.matcher)
        if removed:
            result.report.identifying_values.update(removed)
            result.report.removed_attributes += len(removed)
        if scrubbed != head:
            result.scrubbed_files.append(name)
        if name in plan.data_lines:
            scrubbed = with_data_files(scrubbed, name, plan.data_lines[name])
        target.write(scrubbed)
    elif plan.matcher and name.lower().endswith(text_headers.SUFFIXES):   # MetaImage, PLY, STL, OBJ
        _copy_text_header(name, source, target, plan, result)
        return
    elif name in plan.data_lines:   # a MetaImage header: its ElementDataFile line follows the data files
        target.write(with_data_files(source.read(MAX_HEADER_BYTES), name, plan.data_lines[name]))
    elif plan.matcher and not is_detached_header(name):
        head = source.read(SNIFF_BYTES)
        if compressed_files.is_gzip(head) or compressed_files.nifti_kind(head):   # read, never certified unread
            _copy_compressed(name, head, source, target, plan, result)
            return
        if not is_text(name, head):   # by content, not suffix (text_encodings)
            target.write(head)
            shutil.copyfileobj(source, target, 1 << 20)
            return
        data = head + source.read(MAX_TEXT_BYTES + 1 - len(head))
        if len(data) <= MAX_TEXT_BYTES:
            text, encoding = decoded(data)   # BOM, UTF-8, cp1252, latin-1; written back in the same
            redacted = _redacted_text(name, text, plan.matcher)
            if redacted != text:
                result.scrubbed_files.append(name)
                data = encoded(redacted, encoding)
            target.write(data)
            return
        target.write(data)
    shutil.copyfileobj(source, target, 1 << 20)


def _copy_text_header(name: str, source, target, plan: _Plan, result: SceneResult) -> None:
    """A MetaImage, PLY, STL or OBJ file (text_headers): the free text of its header (or of its lines,
    for ASCII STL and OBJ, streamed) has every spelling replaced; a MetaImage header's
    ElementDataFile line follows its data files; the data after the header is streamed as it is."""
    head = source.read(SNIFF_BYTES)
    kind = text_headers.kind(name, head)
    changed = False
    if kind in ("obj", "stl-ascii"):
        for chunk in text_headers.line_chunks(head, source):
            new = text_headers.rewritten(kind, chunk, plan.matcher.redact)
            changed |= new != chunk
            target.write(new)
    elif kind is not None:
        try:
            data = text_headers.read_header(kind, head, source)
        except text_headers.HeaderError as error:
            raise SceneError(f"{getattr(source, 'what', 'a file of the scene')} cannot be scrubbed: {error}: "
                             "refused") from None
        length = text_headers.header_length(kind, data)
        header = text_headers.rewritten(kind, data[:length], plan.matcher.redact)
        changed = header != data[:length]
        if name in plan.data_lines:
            header = with_data_files(header, name, plan.data_lines[name])
        target.write(header + data[length:])
    else:
        target.write(head)
    shutil.copyfileobj(source, target, 1 << 20)
    if changed:
        result.scrubbed_files.append(name)


def _copy_compressed(name: str, head: bytes, source, target, plan: _Plan, result: SceneResult) -> None:
    """A gzip or NIfTI file (compressed_files): a NIfTI header's char fields scrubbed, a compressed
    text file scrubbed and compressed again, any other compressed data searched; what cannot be
    rewritten but holds a spelling is refused. A gzip file whose header carries text (FNAME,
    FCOMMENT, FEXTRA) is compressed again without it; other unchanged files are copied byte for byte."""
    where = getattr(source, "what", None) or f"a file ({plan.path_matcher.redact(file_suffixes(name)) or 'no suffix'})"
    try:
        if not compressed_files.is_gzip(head):   # an uncompressed .nii: the header is rewritten in place
            first = compressed_files.read_nifti_start(head, source)
            _refuse_extensions(first, plan, where)
            if compressed_files.cleaned_nifti_header(first, plan.matcher.redact):
                result.scrubbed_files.append(name)
            target.write(first)
            shutil.copyfileobj(source, target, 1 << 20)
            return
        raw, size = compressed_files.staged_gzip(head, source)
        with raw:
            _copy_gzip(name, raw, size, target, plan, result, where)
    except compressed_files.CompressedError as error:
        raise SceneError(f"{where} cannot be scrubbed: {error}") from None


def _copy_gzip(name: str, raw, size: int, target, plan: _Plan, result: SceneResult, where: str) -> None:
    """A staged gzip file: its decompressed content read as a stream (never written to disk), decided
    on, then either the raw bytes copied or the content compressed again from a second pass."""
    plain = compressed_files.opened_gzip(raw, size)
    inner = plain.read(SNIFF_BYTES)
    inner_name = name[:-3] if name.lower().endswith(".gz") else name
    new, skip = None, 0   # the new start of the content, and how many bytes of the old it replaces
    if compressed_files.nifti_kind(inner):
        first = compressed_files.read_nifti_start(inner, plain)
        _refuse_extensions(first, plan, where)
        skip = len(first)
        if compressed_files.cleaned_nifti_header(first, plan.matcher.redact):
            new = bytes(first)
        plain.drain()   # every CRC checked, every member's header seen
    elif is_text(inner_name, inner):
        data = inner + plain.read(MAX_TEXT_BYTES + 1 - len(inner))
        if len(data) > MAX_TEXT_BYTES:
            raise SceneError(f"compressed text in {where} is larger than the scrubber reads: refused")
        text, encoding = decoded(data)
        redacted = _redacted_text(inner_name, text, plan.matcher)
        skip = len(data)
        if redacted != text:
            new = encoded(redacted, encoding)
        plain.drain()
    else:
        literals = plan.matcher.literal_forms()
        chunk, tail = inner, b""
        overlap = max((len(literal) for literal in literals), default=1) - 1
        while chunk:
            window = tail + chunk.lower()
            if any(literal in window for literal in literals):
                raise SceneError(f"compressed data in {where} holds an identifying value the scrubber cannot "
                                 "rewrite: refused")
            tail = window[-overlap:] if overlap else b""
            chunk = plain.read(1 << 20)
    if new is None and not plain.has_header_text:
        raw.seek(0)
        shutil.copyfileobj(raw, target, 1 << 20)
        return
    result.scrubbed_files.append(name)
    again = compressed_files.opened_gzip(raw, size)   # a second pass: nothing decompressed is kept
    if new is not None:
        again.read(skip)
    # gzip's header written without FNAME (filename=""), FCOMMENT or FEXTRA, and with no time
    with gzip.GzipFile(filename="", fileobj=target, mode="wb", mtime=0) as writer:
        if new is not None:
            writer.write(new)
        shutil.copyfileobj(again, writer, 1 << 20)


def _refuse_extensions(first: bytes, plan: _Plan, where: str) -> None:
    extensions = compressed_files.nifti_extensions(bytes(first))
    if extensions and (plan.matcher.found_in(extensions.decode("latin-1"))
                       or any(literal in extensions.lower() for literal in plan.matcher.literal_forms())):
        raise SceneError(f"the header extensions of NIfTI {where} hold an identifying value (they are not "
                         "rewritten): refused")


def _redacted_text(name: str, text: str, matcher: IdentityMatcher) -> str:
    """A text file with every spelling replaced; a table (.csv, .tsv) cell by cell (table_cells: a
    quoted cell whole, delimiters inside it too), so that a name spread over two cells ('Doe,John')
    never merges them (quotes and delimiters are never touched)."""
    delimiter = {".csv": ",", ".tsv": "\t"}.get(posixpath.splitext(name.lower())[1])
    if name.lower().endswith(".json") and is_json(text):   # only string values, by key (structure_values)
        hits = json_text_hits(text, matcher.hits(text))
        pieces, last = [], 0
        for hit in hits:
            pieces += [text[last:hit.start], REPLACEMENT]
            last = hit.end
        return "".join(pieces) + text[last:]
    if delimiter is None:
        return matcher.redact(text)
    return redact_cells(text, delimiter, matcher.redact)


def _write_files(scene: SceneSource, plan: _Plan, folder: Path, result: SceneResult, rename=None) -> list:
    """Write every file of the scene under `folder`; returns the relative names written."""
    written = []
    for name in scene.names:
        relative = (rename or plan.target)(name)
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with scene.open(name) as reader, open(target, "wb") as writer:
            with named_errors(f"file {scene._position(name)} of the scene"):
                _copy_member(name, reader, writer, plan, result)
        written.append(relative)
    return written


def _write_folder(scene: SceneSource, plan: _Plan, output: Path, result: SceneResult) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = fresh_folder(output.parent)   # created here: the only folder this removes
    try:
        _write_files(scene, plan, temporary, result)
        os.replace(temporary, output)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def _write_beside(scene: SceneSource, plan: _Plan, output: Path, result: SceneResult) -> None:
    """A .mrml to a .mrml: the scene file takes the output's name, its files go beside it (none may
    exist yet). Staged in a hidden folder, then moved into place."""
    scene_file, = scene.scene_names()
    thumbnail = posixpath.splitext(scene_file)[0] + ".png"

    def rename(name: str) -> str:
        if name == scene_file:
            return output.name
        if name == thumbnail:
            return output.with_suffix(".png").name
        return plan.target(name)

    existing = [rename(name) for name in scene.names if (output.parent / rename(name)).exists()]
    if existing:
        raise SceneError(f"{len(existing)} of the files to write beside the output exist already: choose a new output")
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = fresh_folder(output.parent)
    try:
        written = _write_files(scene, plan, temporary, result, rename)
        for relative in sorted(written, key=lambda name: name == output.name):   # the scene file last
            (output.parent / relative).parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary / relative, output.parent / relative)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def _write_bundle(scene: SceneSource, plan: _Plan, output: Path, result: SceneResult) -> None:
    """An .mrb: members keep their (normalised) names, dates and modes; a folder or .mrml input is put
    under a top folder named after the output, as Slicer packs bundles."""
    temporary = fresh_file(output.parent)   # created here: the only file this removes
    if scene.members:
        members, prefix = scene.members, ""
    else:
        prefix = f"{neutral_path(output.stem, plan.path_matcher)}/"   # the output's name without identity
        members = [(name, zipfile.ZipInfo(prefix + name)) for name in scene.names]
    try:
        with zipfile.ZipFile(temporary, "w") as target:
            for name, member in members:
                target_name = neutral_path(name, plan.path_matcher) + "/" if member.is_dir() else plan.target(name)
                copy = zipfile.ZipInfo(prefix + target_name, date_time=member.date_time)
                copy.external_attr = member.external_attr or (0o644 << 16)
                copy.compress_type = member.compress_type if scene.members else zipfile.ZIP_DEFLATED
                if copy.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    copy.compress_type = zipfile.ZIP_DEFLATED
                if member.is_dir():
                    target.writestr(copy, b"")
                    continue
                with scene.open(name) as reader, target.open(copy, "w", force_zip64=True) as writer, \
                        named_errors(f"file {scene._position(name)} of the scene"):
                    _copy_member(name, reader, writer, plan, result)
        os.replace(temporary, output)
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as error:
        temporary.unlink(missing_ok=True)
        raise SceneError(f"the input bundle cannot be read: {described(error)}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _merge(into: ScrubReport, other: ScrubReport) -> None:
    into.removed_attributes += other.removed_attributes
    into.removed_uids += other.removed_uids
    into.renamed_items += other.renamed_items
    into.identifying_values |= other.identifying_values
    into.descriptive_values |= other.descriptive_values
    into.identifier_values |= other.identifier_values
    into.relocated_files += other.relocated_files
