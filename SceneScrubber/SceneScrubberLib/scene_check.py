"""Checking a written scene: where do identifying values stand in any of its files?

Every file of the scene (see scene_sources) and every file and folder name is
looked at with the identity matcher (identity_matcher: any case, order and
separator). Text is matched word by word: scene files, NRRD headers (node
attributes, segment names and descriptions), markups JSON (labels,
descriptions), text and table nodes' files, color tables, and any other file
that reads as text. Binary data (image data, a NRRD file's payload) is searched
for the long spellings of each value, byte for byte, in chunks: random bytes
spell short words by chance. The strings of VTK XML poly data files (segment names
and tags, zlib-compressed) are read with VTK (vtk_xml_files), and a bundle inside
the scene (a sequence's '.seq.mrb') is checked in turn.
"""
from __future__ import annotations

import bisect
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .identity_matcher import Hit, IdentityMatcher, matcher_for
from .mrml_scrubber import SINGLETON_TEXT, STRUCTURE_ATTRIBUTES, identifier_values, identifying_values
from .node_ids import (BUILT_IN_COLOR_NAMES, color_value_spans, id_spans, identifying_tags,
                       other_identifying_id_spans, without_spans)
from .policy import ScrubPolicy
from .scene_sources import named_errors, open_scene
from .structure_values import is_json, is_slicer_header_key, json_text_hits, nrrd_structure_line, text_hits
from .text_encodings import decoded, is_text
from . import text_encodings
from . import compressed_files, text_headers, vtk_legacy_files, vtk_references, vtk_xml_files
from .mrml_scrubber import SceneError

CHUNK_BYTES = 4 << 20
MAX_TEXT_BYTES = 64 << 20     # a text file larger than this is searched as binary data
SNIFF_BYTES = 8192
NRRD_SUFFIXES = (".nrrd", ".nhdr")
# one list with the scrubber's (text_encodings): a suffix it rewrites as text is read as text here;
# OBJ and MTL have their own reading (text_headers), as in the scrubber
TEXT_SUFFIXES = (".mrml",) + text_encodings.TEXT_SUFFIXES


@dataclass
class Finding:
    """One identifying value found by the check: the file (as the scene names it), the value (print it only
    masked) and the byte offset in the file (-1: in the file's name)."""
    file: str
    term: str      # the identifying value whose spelling was found (print it masked)
    offset: int    # byte offset in the file, -1 for the file's name


def identifying_terms(source: Path, policy=None, allowed_folders=(), with_identifiers: bool = False, _depth: int = 0):
    """The identifying values a scene's own .mrml files hold (what scrubbing with `policy` takes out).
    With `with_identifiers`: (those values, the IDs among them, matched as terms at any length)."""
    terms, ids = set(), set()
    with open_scene(source, allowed_folders, _depth) as scene:
        for name in scene.scene_names():
            data = scene.read(name)
            terms |= identifying_values(data, policy)
            ids |= identifier_values(data, policy)
        for name, staged in _nested_bundles(scene):   # a sequence's .seq.mrb: its scene's values too
            with staged:
                inner = identifying_terms(staged.path, policy, (), True, _depth + 1)
            terms |= inner[0]
            ids |= inner[1]
    return (terms, ids) if with_identifiers else terms


class _Staged:
    """A member copied to a private temporary file (a bundle inside the scene, a VTK file), removed after."""

    def __init__(self, scene, name: str, file_name: str):
        self._folder = tempfile.TemporaryDirectory(prefix="scene-check-")
        self.path = Path(self._folder.name) / file_name   # a neutral name: the member's can carry identity
        with scene.open(name) as reader, open(self.path, "wb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._folder.cleanup()


def _nested_bundles(scene):
    for name in scene.names:
        if name.lower().endswith(".mrb"):
            yield name, _Staged(scene, name, "nested.mrb")


def check_scene(source: Path, terms, allowed_folders=(), policy=None, _depth: int = 0) -> list:
    """[Finding] for every file of the scene in which, or in whose name, one of `terms` stands (see
    the module's text). `terms`: identifying values, or an IdentityMatcher.

    A NRRD header's DICOM.* key that `policy` would take out is a finding itself, wherever the .mrml
    stands (a header put back after scrubbing), and its values are looked for in every file too.
    The CLI and the panel pass the policy they scrub with; without one, ScrubPolicy() (nothing kept:
    the strictest), so that a caller never skips this check by leaving the argument out."""
    policy = policy if policy is not None else ScrubPolicy()
    matcher = terms if isinstance(terms, IdentityMatcher) else matcher_for(terms)
    findings = []
    with open_scene(source, allowed_folders, _depth) as scene:
        for name, staged in _nested_bundles(scene):   # a bundle inside (a sequence's .seq.mrb): checked in turn
            with staged:
                findings += [Finding(f"{name}/{finding.file}", finding.term, finding.offset)
                             for finding in check_scene(staged.path, matcher, (), policy, _depth + 1)]
        in_headers = _header_findings(scene, policy)
        findings += in_headers
        matchers = [found for found in (matcher, matcher_for({finding.term for finding in in_headers})) if found]
        for every in matchers:
            literals = every.literal_forms()
            for name in scene.names:
                with named_errors(f"file {scene._position(name)} of the scene"):
                    findings += _find_in(name, scene, every, literals)
                findings += _once([Finding(name, hit.value, -1) for hit in every.hits(name)])
            for name, info in scene.members:   # a bundle's folder entries have names too
                if info.is_dir():
                    findings += _once([Finding(name + "/", hit.value, -1) for hit in every.hits(name)])
    # one finding per value, file and kind of place (content, name): a header's value is found twice
    return list({(finding.file, finding.term, finding.offset < 0): finding for finding in reversed(findings)}
                .values())[::-1]


def _header_findings(scene, policy) -> list:
    """[Finding] for each DICOM.* value a NRRD header of the scene still holds that `policy` takes out
    (bundles.scrub_nrrd_header: the scrubber's own rule), at its offset in the file."""
    from .bundles import read_nrrd_header, scrub_nrrd_header   # bundles is the scrubber; it never imports this
    findings = []
    for name in scene.names:
        if not name.lower().endswith(NRRD_SUFFIXES):
            continue
        with scene.open(name) as stream, named_errors(f"file {scene._position(name)} of the scene"):
            head = read_nrrd_header(stream)   # the whole header (SceneError beyond its bound)
        _scrubbed, removed = scrub_nrrd_header(head, policy)
        for value in dict.fromkeys(removed):
            offset = head.find(value.encode("latin-1", "replace"))
            findings.append(Finding(name, value, offset))
    return findings


def _once(findings: list) -> list:
    """One finding per value and file: the first."""
    seen, kept = set(), []
    for finding in findings:
        if finding.term not in seen:
            seen.add(finding.term)
            kept.append(finding)
    return kept


def _find_in(name: str, scene, matcher: IdentityMatcher, literals: dict) -> list:
    found = _in_vtk_strings(name, scene, matcher) if vtk_xml_files.is_vtk_xml(name) else []
    if vtk_legacy_files.is_vtk_legacy(name) and matcher:   # array names ('John%20Doe'), header, strings
        with _Staged(scene, name, "file.vtk") as staged:
            data, reader = vtk_legacy_files.read(staged.path, f"file {scene._position(name)} of the scene")
            texts = vtk_legacy_files.strings(data, reader)
        found += [Finding(name, hit.value, 0) for text in dict.fromkeys(texts) for hit in matcher.hits(text)]
    return _once(found + _find_in_bytes(name, scene, matcher, literals))


def _in_vtk_strings(name: str, scene, matcher: IdentityMatcher) -> list:
    """[Finding] (at byte 0: the strings are compressed) for each value whose spelling stands in a
    string of a VTK XML poly data file (segment names and tags, any string array: vtk_xml_files),
    read by VTK from a private copy. A multiblock file holds no data of its own (its text is searched
    as text), its pieces are read one by one."""
    if not matcher:
        return []
    with _Staged(scene, name, "file.vtp") as staged:
        # by content (vtk_references): a composite file is never read by VTK here (its pieces,
        # unstaged, are files of the scene read one by one)
        if vtk_references.names_files(vtk_references.read_regular(staged.path, vtk_references.HEAD_BYTES)):
            return []
        strings = vtk_xml_files.strings(vtk_xml_files.read(staged.path, f"file {scene._position(name)} of the scene"))
    return [Finding(name, hit.value, 0) for text in dict.fromkeys(strings) for hit in matcher.hits(text)]


def _find_in_bytes(name: str, scene, matcher: IdentityMatcher, literals: dict) -> list:
    with scene.open(name) as stream:
        head = stream.read(SNIFF_BYTES)
        lower = name.lower()
        if lower.endswith(NRRD_SUFFIXES) and head.startswith(b"NRRD"):
            from .bundles import read_nrrd_header
            header = read_nrrd_header(stream, head) if b"\n\n" not in head else head
            end = header.find(b"\n\n")
            end = len(header) if end < 0 else end
            found = _in_text(name, header[:end], matcher, 0, header=True)
            return _once(found + _in_binary(name, header[end:], stream, literals, end))
        kind = text_headers.kind(name, head)
        if kind is not None:   # MetaImage, PLY, STL, OBJ: their free text as the scrubber reads it
            return _once(_in_text_header(name, kind, head, stream, matcher, literals))
        if compressed_files.is_gzip(head) or compressed_files.nifti_kind(head):   # read as the scrubber reads it
            return _once(_in_compressed(name, head, stream, matcher, literals))
        text = is_text(name, head)   # by content, as the scrubber decides (text_encodings)
        if text or lower.endswith(TEXT_SUFFIXES) or (b"\x00" not in head and _decodes(head)):
            data = head + stream.read(MAX_TEXT_BYTES)
            if len(data) <= MAX_TEXT_BYTES:
                return _once(_in_text(name, data, matcher, 0, lower.endswith(".mrml"),
                                       any_encoding=text or lower.endswith(TEXT_SUFFIXES)))
            return _once(_in_binary(name, data, stream, literals, 0))
        return _once(_in_binary(name, head, stream, literals, 0))


class _Chunks:
    """A stream over a line format's chunks (text_headers.line_chunks) that collects the findings
    in each chunk's free text as _in_binary reads it."""

    def __init__(self, name: str, kind: str, chunks, matcher: IdentityMatcher):
        self.name, self.kind, self.chunks, self.matcher = name, kind, chunks, matcher
        self.position, self.found = 0, []

    def read(self, _size: int = -1) -> bytes:
        chunk = next(self.chunks, b"")
        self.found += _in_spans(self.name, self.kind, chunk, self.matcher, self.position)
        self.position += len(chunk)
        return chunk


def _in_text_header(name: str, kind: str, head: bytes, stream, matcher: IdentityMatcher, literals: dict) -> list:
    """[Finding] in the free text of a MetaImage, PLY, STL or OBJ file (text_headers.text_spans: every
    spelling) and anywhere in it (the long spellings, as in binary data)."""
    if kind in ("obj", "stl-ascii"):
        chunks = _Chunks(name, kind, text_headers.line_chunks(head, stream), matcher)
        found = _in_binary(name, chunks.read(), chunks, literals, 0)
        return chunks.found + found
    try:
        data = text_headers.read_header(kind, head, stream)
    except text_headers.HeaderError as error:
        raise SceneError(f"{getattr(stream, 'what', 'a file of the scene')} cannot be checked: {error}") from None
    length = text_headers.header_length(kind, data)
    return _in_spans(name, kind, data[:length], matcher, 0) + _in_binary(name, data, stream, literals, 0)


def _in_spans(name: str, kind: str, data: bytes, matcher: IdentityMatcher, base: int) -> list:
    found = []
    # the free text (rewritten by scrub) and the names the format keeps (not rewritten: scrub then fails)
    spans = sorted(text_headers.text_spans(kind, data) + text_headers.kept_name_spans(kind, data))
    for start, end in spans:
        text, encoding = text_headers._decoded(data[start:end])
        found += [Finding(name, hit.value, base + start + len(text[:hit.start].encode(encoding, "replace")))
                  for hit in matcher.hits(text)]
    return found


def _in_compressed(name: str, head: bytes, stream, matcher: IdentityMatcher, literals: dict) -> list:
    """[Finding] in a gzip file's decompressed content (a NIfTI header's char fields and extensions,
    text, or data searched for the long spellings; offsets are in the decompressed content), in its
    gzip header's text fields (FNAME, FCOMMENT, FEXTRA, at byte 0), or in an uncompressed NIfTI's
    header. SceneError for a damaged stream: what is not read is never clean."""
    what = getattr(stream, "what", None) or "a file of the scene"
    try:
        if not compressed_files.is_gzip(head):
            first = compressed_files.read_nifti_start(head, stream)
            found = _in_text(name, compressed_files.nifti_text(bytes(first)).encode("utf-8"), matcher, 0)
            return found + _in_binary(name, bytes(first), stream, literals, 0)
        raw, size = compressed_files.staged_gzip(head, stream)
        with raw:
            plain = compressed_files.opened_gzip(raw, size)
            found = _in_gzip_content(name, plain, matcher, literals)
            plain.drain()   # the headers of later members too
            header = compressed_files.header_text(plain)
            return found + [Finding(name, hit.value, 0) for hit in matcher.hits(header)]
    except compressed_files.CompressedError as error:
        raise SceneError(f"{what} cannot be checked: {error}") from None


def _in_gzip_content(name: str, plain, matcher: IdentityMatcher, literals: dict) -> list:
    inner = plain.read(SNIFF_BYTES)
    inner_name = name[:-3] if name.lower().endswith(".gz") else name
    if compressed_files.nifti_kind(inner):
        first = compressed_files.read_nifti_start(inner, plain)
        found = _in_text(name, compressed_files.nifti_text(bytes(first)).encode("utf-8"), matcher, 0)
        return found + _in_binary(name, bytes(first), plain, literals, 0)
    if is_text(inner_name, inner):
        data = inner + plain.read(MAX_TEXT_BYTES)
        if len(data) <= MAX_TEXT_BYTES:
            return _in_text(name, data, matcher, 0, any_encoding=True)
        return _in_binary(name, data, plain, literals, 0)
    return _in_binary(name, inner, plain, literals, 0)


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(data) - 4   # a character cut at the end of the sniffed bytes
    return True


_LINE = re.compile(r"^[^\n]*$", re.MULTILINE)
_HEADER_KEY = re.compile(r"^([^\n:]*):=", re.MULTILINE)
_HEADER_COLOR = re.compile(r":=[ \t]*([^\n]*?)[ \t\r]*$", re.MULTILINE)


def _in_text(name: str, data: bytes, matcher: IdentityMatcher, base: int, scene: bool = False,
             header: bool = False, any_encoding: bool = False) -> list:
    # a text file is read as the scrubber reads it (text_encodings: BOM, UTF-8, cp1252, latin-1);
    # offsets are then those of the UTF-8 text
    text = decoded(data)[0] if any_encoding and not scene else data.decode("utf-8", errors="replace")
    hits = matcher.hits(text)
    if header and hits:   # a NRRD header's 'Color:=grey' (node attributes copied there) is vocabulary
        spans = [match.span(1) for match in _HEADER_COLOR.finditer(text)
                 if match.group(1).lower() in BUILT_IN_COLOR_NAMES]
        # the format's fields ('endian: little', 'type: short') are structure (structure_values)
        spans += [match.span() for match in _LINE.finditer(text) if nrrd_structure_line(match.group(0))]
        # Slicer's own keys ('Segment0_LabelValue' for a patient LABEL^ANNA: structure_values)
        spans += [match.span(1) for match in _HEADER_KEY.finditer(text) if is_slicer_header_key(match.group(1))]
        hits = without_spans(text, hits, sorted(spans))
    if scene and hits:
        hits = _outside_vocabulary(text, hits, matcher)
    if hits and name.lower().endswith(".json") and is_json(text):   # string values only, as scrub reads them
        hits = json_text_hits(text, hits)
    return [Finding(name, hit.value, base + len(text[:hit.start].encode("utf-8"))) for hit in hits]


_ID_ATTRIBUTES = frozenset({"id", "references", "singletonTag"})   # structure, except ids that scrub renames (node_ids)
_VOCABULARY_VALUE = re.compile(r'\s(?:%s)="[^"]*"' % "|".join(sorted(STRUCTURE_ATTRIBUTES - _ID_ATTRIBUTES)))
_ID_VALUE = re.compile(r'\s(id|references|singletonTag)="([^"]*)"')
_SINGLETON = re.compile(r'<\w+\s[^>]*\ssingletonTag="[^"]*"[^>]*>')
_NAME = re.compile(r'\s(?:%s)="[^"]*"' % "|".join(sorted(SINGLETON_TEXT)))
# The markup itself: element and attribute names are MRML's vocabulary, never a value
# ('SourceRepresentationName' is no patient named Source).
_MARKUP_NAME = re.compile(r'</?[A-Za-z_][\w.:-]*|\s[A-Za-z_][\w.:-]*(?==")')


_SINGLETON_TAG = re.compile(r'\ssingletonTag="([^"]*)"')
_NODE_ATTRIBUTES = re.compile(r'<(?!SubjectHierarchyItem\b)\w+\s[^>]*?\sattributes="([^"]*)"')


def _outside_vocabulary(text: str, hits: list, matcher: IdentityMatcher) -> list:
    """The hits in a scene file that are not in what the scrubber leaves as Slicer's own (element and
    attribute names, node ids and references except those that carry identity (node_ids), layout
    names, orientations, the names and layout labels of singleton nodes such as the Green view:
    mrml_scrubber.STRUCTURE_ATTRIBUTES, SINGLETON_TEXT), so that check agrees with scrub on its output.
    userTags and the layout labels of other views are text like any other."""
    spans = [match.span() for match in _VOCABULARY_VALUE.finditer(text)]
    spans += _vocabulary_spans(text, hits)
    spans += [match.span() for match in _MARKUP_NAME.finditer(text)]
    for element in _NODE_ATTRIBUTES.finditer(text):   # "Color:grey": a built-in colour's name (node_ids)
        spans += color_value_spans(element.group(1), element.start(1))
    # node ids Slicer gives (vtkMRMLColorTableNodeGrey for a patient named Grey: node_ids)
    all_tags = frozenset(_SINGLETON_TAG.findall(text))
    chosen = identifying_tags(all_tags, matcher)   # scrub renames these (node_ids)
    tags = all_tags - chosen
    spans += id_spans(text, matcher, tags)
    for value in _ID_VALUE.finditer(text):   # all but the ids and singleton tags scrub renames
        start, content = value.start(2), value.group(2)
        if value.group(1) == "singletonTag":
            if content not in chosen:
                spans.append(value.span(2))
            continue
        renamed = [span for span in id_spans(content) if span not in id_spans(content, matcher, tags)]
        # ids of other forms that carry identity (scrub renames them too: node_ids)
        renamed = sorted(set(renamed) | set(other_identifying_id_spans(content, matcher)))
        for end, next_start in zip([0] + [e for _s, e in renamed], [s for s, _e in renamed] + [len(content)]):
            spans.append((start + end, start + next_start))
    for element in _SINGLETON.finditer(text):
        if _SINGLETON_TAG.search(element.group(0)).group(1) in chosen:
            continue
        spans += [(element.start() + m.start(), element.start() + m.end()) for m in _NAME.finditer(element.group(0))]
    merged = []   # one span where spans overlap (an id inside a references= value)
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    spans = merged
    starts = [start for start, _end in spans]
    kept = []
    for hit in hits:
        index = bisect.bisect_right(starts, hit.start) - 1
        if index < 0 or spans[index][1] < hit.end:
            kept.append(hit)
    return kept


_ATTRIBUTE = re.compile(r'\s([A-Za-z_][\w.:-]*)="([^"<]*)"')


def _vocabulary_spans(text: str, hits: list) -> list:
    """Spans of attribute values that are Slicer's vocabulary though they spell a name's word
    ('selectable="true"' for TRUE^ANNA; structure_values.text_hits, as scrub decides)."""
    values = [(match.start(2), match.end(2), match.group(1)) for match in _ATTRIBUTE.finditer(text)]
    starts = [start for start, _end, _key in values]
    spans = []
    for hit in hits:
        index = bisect.bisect_right(starts, hit.start) - 1
        if index < 0:
            continue
        start, end, key = values[index]
        if hit.end <= end and not text_hits(key, text[start:end], [Hit(hit.start - start, hit.end - start,
                                                                          hit.value, hit.kind)]):
            spans.append((hit.start, hit.end))
    return spans


def _in_binary(name: str, first: bytes, stream, literals: dict, base: int) -> list:
    """Long spellings of the values in binary data, case-insensitively, chunk by chunk (a spelling
    cut between two chunks is still found)."""
    if not literals:
        return []
    found, overlap, position, tail, chunk = {}, max(len(n) for n in literals) - 1, base, b"", first
    while chunk:
        window = tail + chunk.lower()
        for needle, value in literals.items():
            if value not in found:
                offset = window.find(needle)
                if offset >= 0:
                    found[value] = Finding(name, value, position - len(tail) + offset)
        tail = window[-overlap:] if overlap else b""
        position += len(chunk)
        chunk = stream.read(CHUNK_BYTES)
    return list(found.values())
