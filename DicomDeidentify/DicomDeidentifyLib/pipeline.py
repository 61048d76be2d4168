"""One file, start to finish: read, de-identify, name, write. Never raises for a bad file."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydicom.datadict import keyword_for_tag

from .bounded_read import InputRefused, ReadLimits, check_input
from .dicom_io import (DicomReadError, needs_decoding, read_source, replace_file_meta, transfer_syntax_of,
                       write_dataset)
from .engine import Deidentifier
from .errors import error_kind
from .options import DateMode
from .output_check import OutputLeak, ProtectedValues, check_output
from .pixel_stage import Refused
from .results import ALREADY_PRESENT, DRY_RUN, FAILED, SKIPPED, WRITTEN, FileResult

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def output_path(output_dir: Path, dataset, patient_folder_fallback: str, source_tag: str) -> Path:
    """<output>/<patient>/<study>/<series>/<sop>.<source tag>.dcm, all from de-identified values.

    Input file names are never reused: they often carry the patient's name. The
    source tag (a keyed digest of the input bytes and the settings, engine.settings_digest)
    makes a second run over the same input with the same settings find its output;
    any other version of the instance is removed by the run (batch._one_version_per_instance).
    """
    patient = _UNSAFE_NAME.sub("_", str(dataset.get("PatientID", "") or "")).strip("._") or patient_folder_fallback
    parts = [patient]
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID"):
        parts.append(_UNSAFE_NAME.sub("_", str(dataset.get(keyword, "") or "")) or "unknown")
    sop = _UNSAFE_NAME.sub("_", str(dataset.file_meta.get("MediaStorageSOPInstanceUID", "") or "")) or "instance"
    name = f"{sop}.{source_tag}.dcm"
    return Path(output_dir).joinpath(*parts, name)


@lru_cache(maxsize=65536)   # the same few hundred tags come back in every file
def _attribute_name(tag: int) -> str:
    """The keyword of a public attribute, else its tag (private attributes have no keyword)."""
    keyword = "" if (tag >> 16) % 2 else keyword_for_tag(tag)
    return keyword or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


@lru_cache(maxsize=256)   # the files of a series leave out the same elements
def _removed_names(tags: tuple) -> tuple:
    return tuple(_attribute_name(tag) for tag in tags if tag & 0xFFFF)


def instance_tag(deidentifier: Deidentifier, digest: str, identity_hash: str, original_study: str,
                 original_sop: str) -> str:
    """What one destination holds one version of (issue 13, item 9): an instance, as a keyed digest of
    the patient's identity, the original Study and SOP Instance UIDs (a re-export of it, other bytes,
    is the same instance); for a file without a SOP Instance UID, its bytes. 20 hex digits."""
    if not original_sop:
        return deidentifier.hasher.digest("input", digest).hex()[:20]
    return deidentifier.hasher.digest("instance", f"{identity_hash}\x00{original_study}\x00{original_sop}").hex()[:20]


def remove_output(path: Path, root: Path) -> None:
    """Remove a written (or held) file and the series, study and patient folders output_path made for
    it, once empty; never `root` (the destination) nor a folder above the patient's."""
    path = Path(path)
    path.unlink(missing_ok=True)
    root = Path(root)
    for folder in list(path.parents)[:3]:
        if folder == root:
            break
        try:
            folder.rmdir()
        except OSError:   # not empty (or not ours to remove): the folders above stay too
            break


def deidentify_file(deidentifier: Deidentifier, source: Path, output_dir: Path | None,
                    dry_run: bool = False, limits: ReadLimits | None = None) -> FileResult:
    """One input file, read, de-identified with `deidentifier` and written under `output_dir` at
    output_path (atomically, after check_output reads it back); returns its FileResult.

    `output_dir` None, or `dry_run`, writes nothing (status DRY_RUN). An output already present for the
    same input, profile and key is SKIPPED. `limits` (bounded_read.ReadLimits, default ReadLimits())
    bounds what is read. Never raises for a bad file: a file that is not DICOM, not a regular file,
    unreadable, damaged, refused by the pixel stage or failing the output check gives a SKIPPED or
    FAILED result whose reason names the kind of problem, never a value (errors.error_kind)."""
    source = Path(source)
    try:
        # A regular file, within the limits (bounded_read); the tag order is checked in read_source's walk.
        order_owed = check_input(source, limits or ReadLimits(), defer_order_scan=True)
        # Files sampled for the report's before/after are parsed (but for pixel data), so that it shows originals.
        read = read_source(source, deidentifier.sampled_unparsed_action if deidentifier.record_changes
                           else deidentifier.unparsed_action, order_owed)
        if read.kept_unread and (needs_decoding(read.dataset) or deidentifier.pixel_stage.needs_pixels(read.dataset)):
            read = read_source(source)   # an encoding to convert or pixels to clean: every element is parsed
            # (the first reading found the tags in order)
        dataset, digest = read.dataset, read.digest
    except InputRefused as refused:
        return FileResult(str(source), status=SKIPPED if refused.not_regular else FAILED, reason=refused.reason)
    except DicomReadError as error:
        return FileResult(str(source), status=SKIPPED if error.not_dicom else FAILED, reason=error.reason)
    except OSError as error:
        return FileResult(str(source), status=FAILED, reason=f"cannot be read: {error.strerror or error_kind(error)}")
    except Exception as error:  # e.g. a file that shrank while it was mapped: this file fails, the batch goes on
        return FileResult(str(source), status=FAILED, reason=f"cannot be read: {error_kind(error)}")
    try:
        transfer_syntax = transfer_syntax_of(dataset)
        original_sop = str(dataset.get("SOPInstanceUID", "") or dataset.file_meta.get("MediaStorageSOPInstanceUID", ""))
        original_study = str(dataset.get("StudyInstanceUID", "") or "")
        pixel_plan = deidentifier.pixel_stage.plan(dataset)   # from the original header
        protected = ProtectedValues(dates_kept=deidentifier.options.dates is DateMode.FULL,
                                    uids_kept=deidentifier.options.retain_uids)
        result = deidentifier.deidentify(dataset, str(source), protected)
        if result.status == SKIPPED:
            return result
        try:
            transfer_syntax = deidentifier.pixel_stage.apply(pixel_plan, dataset, result) or transfer_syntax
        except Refused as refusal:
            return FileResult(str(source), status=SKIPPED, reason=str(refusal))
        # removed before parsing; group lengths (element 0) go unlisted, as in the engine's walk
        result.removed[:0] = _removed_names(tuple(read.removed_unread))
        new_sop = str(dataset.get("SOPInstanceUID", "") or (deidentifier.map_uid(original_sop) if original_sop else ""))
        replace_file_meta(dataset, transfer_syntax, new_sop)
        if output_dir is None:
            result.status = DRY_RUN
            return result
        # The name's tag: the input's bytes and the settings (profile, key, rules, tool and tables: "already
        # present" only for the same input written the same way); the input tag: the instance.
        source_tag = deidentifier.hasher.digest("source", f"{digest}\x00{deidentifier.settings_digest}").hex()[:10]
        result.input_tag = instance_tag(deidentifier, digest, result.patient["identity_hash"], original_study,
                                        original_sop)
        result.bytes_tag = deidentifier.hasher.digest("input", digest).hex()[:20]
        # an earlier version of the instance in this destination is removed by the run (batch), once this
        # one is recorded: it alone knows whether another input of the run is the same instance
        target = output_path(output_dir, dataset, "patient-" + result.patient["identity_hash"][:12], source_tag)
        result.output = str(target)
        if dry_run:
            result.status = DRY_RUN
        elif target.exists():
            result.status, result.reason = SKIPPED, f"{ALREADY_PRESENT} (same input, same profile and key)"
            # nothing is written now: this run's counts and lists (review items, changes, pixels) leave it out;
            # the earlier run that wrote it reported them. Its pseudonym and UIDs stay (the linkage store).
            result.removed, result.replaced, result.kept, result.review, result.changes = [], [], [], [], []
            result.pixel = {}
        else:
            protected.unread = read.removed_values()
            protected.source, protected.removed = source, set(result.removed)
            protected.changed = protected.removed | set(result.replaced)
            try:
                write_dataset(dataset, target, read.layout, check=lambda path: check_output(path, protected))
            except OutputLeak as leak:   # nothing was left behind; the run goes on
                return FileResult(str(source), status=FAILED, reason=f"output check failed: {leak.reason}")
            result.status = WRITTEN
        return result
    except Exception as error:  # keep the batch going; the reason names what went wrong
        # the type only: pydicom's texts quote values (errors.error_kind)
        return FileResult(str(source), status=FAILED, reason=f"de-identification failed: {error_kind(error)}")
