"""Reading and writing DICOM files safely, on pydicom 2.4 and 3.x alike.

Reading checks every declared length first (structure_check), so a truncated
or malformed file fails here with a clear reason instead of half-way through. Writing
replaces the preamble and the whole file meta group (no original value may
survive in group 0002) and is atomic: a temporary file in the target folder,
closed, then renamed over the target.
"""
from __future__ import annotations

import hashlib
import io
import mmap
import os
import re
import secrets
import struct
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom import config
from pydicom.charset import convert_encodings
from pydicom.dataelem import DataElement, RawDataElement, empty_value_for_VR
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_dataset as read_pydicom_elements
from pydicom.datadict import keyword_for_tag
from pydicom.tag import BaseTag
from pydicom.uid import UID
from pydicom.values import convert_string

from .errors import error_kind
from .dicom_writer import LONG_LENGTH_VRS, SourceLayout, dictionary_vr_or_empty, write_to
from . import raw_values
from .bounded_read import DEFAULT_MAX_INFLATED_MB, MB, InputRefused, inflate_bounded, read_regular, scan_tag_order
from .output_check import SEARCHED_VRS, protected_kind
from .structure_check import StructureError, body_offset, check_buffer, check_file, meta_layout

PYDICOM_MAJOR = int(pydicom.__version__.split(".")[0])

IMPLEMENTATION_CLASS_UID = "2.25.205913283927362862473520958466802302467"  # SlicerDeidentify's own
IMPLEMENTATION_VERSION_NAME = "SLICERDEID_0_1"
IMPLICIT_LITTLE, EXPLICIT_LITTLE, EXPLICIT_BIG = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"
PARTIAL_SUFFIX = ".partial"
MEDIA_DIRECTORY_SOP_CLASS = "1.2.840.10008.1.3.10"
DEFLATED = "1.2.840.10008.1.2.1.99"
IN_MEMORY_LIMIT = 64 * 1024 * 1024   # larger files are parsed from disk, scanned through mmap
STALE_PARTIAL_SECONDS = 600   # a partial file untouched this long is left over, whatever its pid says
# Groups a DICOM data set without preamble and meta (old "raw" files) may start with.
_RAW_START_GROUPS = {0x0002, 0x0004, 0x0008}
# The VRs of PS3.5 6.2: an explicit VR outside them makes pydicom guess, so such files are read whole.
from .element_decoding import KNOWN_VRS  # noqa: E402
UNDEFINED_LENGTH = 0xFFFFFFFF
PRIVATE_SEARCHED_VRS = frozenset({"PN", "UI", "DA", "DT"})
PIXEL_DATA, SPECIFIC_CHARACTER_SET = 0x7FE00010, 0x00080005
DEFAULT_CHARACTER_SET = "iso8859"   # pydicom's name for the default repertoire


class DicomReadError(Exception):
    """The file could not be used; `reason` says why in words a user understands."""

    def __init__(self, reason: str, not_dicom: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.not_dicom = not_dicom


def read_dataset(path: Path) -> Dataset:
    """The whole data set of the file at `path`, parsed by pydicom after the same checks read_source
    makes. Raises DicomReadError (reason in words) for a file that is not DICOM, truncated or damaged,
    OSError when it cannot be opened."""
    return read_source(path).dataset


@dataclass
class SourceFile:
    """A file as read_source read it: the `dataset` (pydicom; elements left out unread are not in it),
    the SHA-256 `digest` (hex) of the file's bytes, the tags and byte spans of the top-level elements
    left out (`removed_unread`, `removed_spans`) and, for a selective read, the `layout` the writer
    copies unchanged elements from."""
    dataset: Dataset
    digest: str                                   # SHA-256 of the file's bytes
    removed_unread: list = field(default_factory=list)   # tags of top-level elements left out
    removed_spans: list = field(default_factory=list)    # (tag, VR or None, start, end) of those
    layout: SourceLayout | None = None   # where unchanged elements sit in the input (selective reads)

    def removed_values(self) -> list:
        """(attribute name, kind, value bytes) of the elements left out unread, for the output
        check: public ones whose VR is known (explicit, or the dictionary's) and searched for;
        private ones only when they are names, UIDs or dates (a private attribute's free text,
        hundreds per file, is left to the engine's removal)."""
        if self.layout is None:
            return []
        values, buffer, implicit = [], self.layout.buffer, self.layout.implicit
        for tag, vr, start, end in self.removed_spans:
            if (tag >> 16) % 2:
                if vr not in PRIVATE_SEARCHED_VRS:
                    continue
                name = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
            else:
                vr = vr or dictionary_vr_or_empty(tag)
                if vr not in SEARCHED_VRS or not tag & 0xFFFF:
                    continue
                name = keyword_for_tag(tag) or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
            header = 12 if (not implicit and vr in LONG_LENGTH_VRS) else 8
            values.append((name, protected_kind(tag, vr), bytes(buffer[start + header:end])))
        return values

    @property
    def kept_unread(self) -> list:
        """(tag, start, end) of top-level elements kept as bytes, never parsed."""
        return self.layout.unread if self.layout is not None else []


def read_source(path: Path, unparsed=None, order_owed: bool = False) -> SourceFile:
    """Read a file once: small files into memory, large ones (many-frame objects) through a
    memory map (see _read_large).

    unparsed(tag, vr) -> "keep" | "remove" | None lets the caller decide, before anything is
    parsed, about top-level elements whose value it never needs: they are left out of the
    data set and either dropped or kept as bytes (pixel data, hundreds of private
    attributes). It is used only when the body scans cleanly in its transfer syntax.

    order_owed: bounded_read.check_input left the tag order scan to this reading (it returned
    True). The selective reading's own walk of the headers then checks the order; before
    pydicom's reader parses the file, bounded_read.scan_tag_order runs (InputRefused).
    """
    path = Path(path)
    if path.stat().st_size > IN_MEMORY_LIMIT:
        return _read_large(path, unparsed, order_owed)
    try:
        data = read_regular(path)   # never blocks on a FIFO, never reads a device
    except InputRefused as refused:
        raise DicomReadError(refused.reason, not_dicom=refused.not_regular) from None
    digest = hashlib.sha256(data).hexdigest()
    if unparsed is not None:
        selected = _read_selected(path, data, unparsed, order_owed)
        if selected is not None:
            dataset, removed, layout = selected
            return SourceFile(dataset, digest, [span[0] for span in removed], removed, layout)
    if order_owed:
        scan_tag_order(data)
    dataset = _parse(path, io.BytesIO(data))
    _check_structure(path, data, dataset)
    return SourceFile(dataset, digest)


def _read_large(path: Path, unparsed, order_owed: bool) -> SourceFile:
    """A large file (a many-frame object) is mapped, not read: the scan and the elements to parse
    come from the mapping, and pixel data kept as bytes is written from it, so memory stays flat.
    Without a selective read, pydicom parses it from disk."""
    digest = content_digest(path)
    with open(path, "rb") as handle:
        try:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:   # emptied since it was measured
            raise DicomReadError("changed while being read (it is empty now)") from None
    if unparsed is not None:
        selected = _read_selected(path, mapped, unparsed, order_owed)
        if selected is not None:
            dataset, removed, layout = selected
            layout.path = str(path)   # pixel data is copied file to file when written
            # the layout keeps the mapping open
            return SourceFile(dataset, digest, [span[0] for span in removed], removed, layout)
    if order_owed:
        scan_tag_order(mapped)
    del mapped   # unmapped once nothing refers to it
    dataset = _parse(path, str(path))
    _check_structure(path, None, dataset)
    return SourceFile(dataset, digest)


def _read_selected(path: Path, data, unparsed, check_order: bool = False):
    """(data set, tags left out, layout), built straight from the structure scan: the elements
    to parse become pydicom raw elements (decoded when first asked for, as dcmread's are), the
    others are left out or kept as byte ranges. None when the file needs pydicom's own
    reading: an encoding other than its meta says, unknown VRs, deflate."""
    start, ts = meta_layout(data)   # one walk of the file meta for the scan, the meta and the syntax
    if not ts or ts == DEFLATED:
        return None
    implicit, little = ts == IMPLICIT_LITTLE, ts != EXPLICIT_BIG
    try:
        spans = check_buffer(data, implicit, little, check_order, start)
    except (StructureError, struct.error):
        return None   # (tags out of order included: bounded_read's scan of every encoding decides)
    meta = _file_meta(data, start)
    if meta is None:
        return None
    layout = SourceLayout(memoryview(data), implicit, little)
    entries, removed, undefined, pixel_length = [], [], [], None
    for tag, vr, start, end, length in spans:
        if vr is not None and vr not in KNOWN_VRS:
            return None   # pydicom guesses what such bytes mean; let it, on the whole file
        if tag == PIXEL_DATA:
            pixel_length = length
        decision = unparsed(tag, vr or dictionary_vr_or_empty(tag))
        if decision == "remove":
            removed.append((tag, vr, start, end))
        elif decision == "keep":
            layout.unread.append((tag, start, end))
        elif length == UNDEFINED_LENGTH and vr == "UN":
            # A sequence stored as UN (implicit VR little endian inside, PS3.5 6.2.2): its bytes
            # as scanned, decoded by the engine as its dictionary VR (element_decoding).
            entries.append((tag, RawDataElement(BaseTag(tag), vr, length, bytes(data[start + 12:end]),
                                                start + 12, implicit, little)))
        elif length == UNDEFINED_LENGTH:
            undefined.append((start, end))
            entries.append((tag, None))   # read below; the data set keeps the file's order
        else:
            value_start = start + (8 if vr is None or vr not in LONG_LENGTH_VRS else 12)
            value = data[value_start:end] if length else empty_value_for_VR(vr, raw=True)
            element = RawDataElement(BaseTag(tag), vr, length, value, value_start, implicit, little)
            entries.append((tag, element))
            layout.parsed[tag] = (element, start, end)
    elements = {BaseTag(tag): element for tag, element in entries}
    encoding = _character_set(elements.get(SPECIFIC_CHARACTER_SET), little)
    if undefined:
        # Sequences (and other values) of undefined length: pydicom reads their items and delimiters.
        read = _read_elements(b"".join(layout.buffer[start:end] for start, end in undefined),
                              implicit, little, encoding)
        if read is None or len(read) != len(undefined):
            return None
        elements.update(read)
    dataset = FileDataset(str(path), elements, data[:128], meta, implicit, little)
    dataset.set_original_encoding(implicit, little, encoding)
    # (span[0], not "tag, *_rest": starred unpacking builds a list per element, 60 us a CT file)
    _check_instance(dataset, pixel_length, {span[0] for span in spans})
    return dataset, removed, layout


def _file_meta(data: bytes, end: int | None = None):
    """The file meta group as a FileMetaDataset of raw elements, or None where pydicom's reader
    would have to guess (an unknown VR, a length that does not fit). `end`: body_offset(data)."""
    if data[128:132] != b"DICM":
        return None
    elements, position, end = {}, 132, body_offset(data) if end is None else end
    while position + 8 <= end:
        group, element, vr = struct.unpack_from("<HH2s", data, position)
        vr = vr.decode("latin-1")
        if vr not in KNOWN_VRS:
            return None
        if vr in LONG_LENGTH_VRS:
            length, start = struct.unpack_from("<I", data, position + 8)[0], position + 12
        else:
            length, start = struct.unpack_from("<H", data, position + 6)[0], position + 8
        if length == UNDEFINED_LENGTH or start + length > end:
            return None
        tag = BaseTag((group << 16) | element)
        value = data[start:start + length] if length else empty_value_for_VR(vr, raw=True)
        elements[tag] = RawDataElement(tag, vr, length, value, start, False, True)
        position = start + length
    meta = FileMetaDataset(elements)
    meta.set_original_encoding(False, True, DEFAULT_CHARACTER_SET)
    return meta


def _character_set(element, little: bool):
    """The Python encodings named by a raw Specific Character Set element, as pydicom's reader derives them."""
    if element is None:
        return DEFAULT_CHARACTER_SET
    return convert_encodings(convert_string(element.value or b"", little))


def _read_elements(data: bytes, implicit: bool, little: bool, encoding):
    """{tag: element} of whole top-level elements read by pydicom; None if it fails or warns."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            dataset = read_pydicom_elements(io.BytesIO(data), implicit, little, parent_encoding=encoding)
        except Exception:
            return None
    if caught:
        return None
    return {tag: dataset.get_item(tag) for tag in dataset.keys()}


def _parse(path: Path, source) -> Dataset:
    """pydicom's parse of a whole file, with the checks a file must pass."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            dataset = pydicom.dcmread(source)
        except InvalidDicomError:
            dataset = _read_raw_dataset(path, source)
        except Exception as error:
            raise DicomReadError(f"cannot be parsed as DICOM: {_describe(error)}") from error
        # first: pydicom 3 gives an empty data set for a file whose encapsulated pixel data is
        # cut, pydicom 2.4 the elements before it; either way the reason is the end of the file
        for warning in caught:
            if "end of file" in str(warning.message).lower():
                # (without the path pydicom names: an input's name may carry the patient's)
                message = re.sub(r"(\s+found)?\s+in file\b.*$", "", str(warning.message), flags=re.S)
                raise DicomReadError(f"truncated: {message[:1].lower()}{message[1:]}")
        if len(dataset) == 0:
            raise DicomReadError("damaged or truncated: no data elements after the file meta information")
        _check_instance(dataset)
    return dataset


def _check_structure(path: Path, buffer, dataset: Dataset) -> None:
    if transfer_syntax_of(dataset) == DEFLATED:
        # pydicom's inflate fails loudly on a cut stream, but not on a whole stream of a cut data
        # set (an element cut short, nothing after the meta): the inflated body is checked too.
        buffer = _inflated_file(path, buffer)

    def check(implicit, little):
        if buffer is not None:
            return check_buffer(buffer, implicit, little)
        return check_file(path, implicit, little)

    implicit, little = _original_encoding(dataset)
    try:
        spans = check(implicit, little)
    except (StructureError, struct.error) as error:
        # pydicom silently reads a body whose VR encoding contradicts the transfer syntax;
        # such a file is fine if all its lengths fit in the encoding it really uses.
        try:
            spans = check(not implicit, little)
        except (StructureError, struct.error):
            raise DicomReadError(f"damaged or truncated: {error}") from error
    _check_agreement(spans, dataset)


def _inflated_file(path: Path, buffer) -> bytes:
    """A deflated file (PS3.5 A.5) as preamble, meta and inflated body, for the structure scan.
    Raises InputRefused past the inflate limit (check_input applies the run's own first)."""
    if buffer is None:
        with open(path, "rb") as handle:
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                return _inflated_file(path, mapped)
    start = body_offset(buffer)
    inflated = inflate_bounded(buffer, start, DEFAULT_MAX_INFLATED_MB * MB)
    if inflated is None:
        raise DicomReadError("damaged: the deflated body is not a valid deflate stream")
    return bytes(buffer[:start]) + inflated


def _check_agreement(spans: list, dataset: Dataset) -> None:
    """The scan that checked the lengths and pydicom's parse must have found the same top-level
    elements: where they differ, one of them took bytes of other elements as a value (PS3.5 7.1)."""
    scanned = {span[0] for span in spans if span[0] >> 16 != 0x0002}
    parsed = {int(tag) for tag in dataset.keys()}
    if scanned != parsed:
        differing = sorted(scanned ^ parsed)
        names = ", ".join(f"({tag >> 16:04X},{tag & 0xFFFF:04X})" for tag in differing[:3])
        raise DicomReadError(f"damaged: its structure can be read in two ways (elements {names}"
                             f"{' ...' if len(differing) > 3 else ''} found by one reading only)")


def _read_raw_dataset(path: Path, source) -> Dataset:
    """Files without the 'DICM' preamble: accepted only if they start like a data set."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if len(head) < 8 or not ({int.from_bytes(head[:2], "little"), int.from_bytes(head[:2], "big")}
                             & _RAW_START_GROUPS):
        raise DicomReadError("not a DICOM file (no 'DICM' prefix and no data set at the start)", not_dicom=True)
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        dataset = pydicom.dcmread(source, force=True)
    except Exception as error:
        raise DicomReadError(f"not a DICOM file ({_describe(error)})", not_dicom=True) from error
    if len(dataset) == 0:
        raise DicomReadError("not a DICOM file (no data elements)", not_dicom=True)
    return dataset


SOP_CLASS_UID, SOP_INSTANCE_UID, STUDY_INSTANCE_UID = 0x00080016, 0x00080018, 0x0020000D
PIXEL_DATA_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})   # Float, Double Float, Pixel Data
SAMPLES_PER_PIXEL, PHOTOMETRIC_INTERPRETATION, NUMBER_OF_FRAMES = 0x00280002, 0x00280004, 0x00280008
ROWS, COLUMNS, BITS_ALLOCATED = 0x00280010, 0x00280011, 0x00280100


def _check_instance(dataset: Dataset, pixel_length=None, scanned=None) -> None:
    """Refuse what is not a storable instance. Values are decoded later, element by element, by
    the engine (an undecodable one is removed and reported); truncation inside an element is
    found by check_file, a file cut at an element boundary by _check_complete. `scanned`: every
    top-level tag of the file (the selective reading leaves some out of `dataset`)."""
    if _meta_value(dataset, "MediaStorageSOPClassUID") == MEDIA_DIRECTORY_SOP_CLASS or "DirectoryRecordSequence" in dataset:
        # A DICOMDIR indexes the original identities; it is rebuilt from outputs, never copied.
        raise DicomReadError("a DICOMDIR (media directory) is not copied: it lists original identities",
                             not_dicom=True)
    if not (raw_values.text(dataset, SOP_CLASS_UID) or _meta_value(dataset, "MediaStorageSOPClassUID")) or not (
            raw_values.text(dataset, SOP_INSTANCE_UID) or _meta_value(dataset, "MediaStorageSOPInstanceUID")):
        raise DicomReadError("no SOP Class UID or SOP Instance UID: a data set fragment, not a storable instance")
    _check_complete(dataset, pixel_length is not None, scanned)
    if "PixelData" in dataset or pixel_length is not None:
        _check_pixel_length(dataset, pixel_length)


def _check_complete(dataset: Dataset, has_pixel_data: bool, scanned=None) -> None:
    """A file cut at an element boundary, where the length checks see nothing wrong: it declares
    itself an instance (SOP Class and SOP Instance UID in the data set, not only in the file meta)
    but ends before what it must hold.

      * an image storage class (pydicom's UID dictionary names them '... Image Storage') that
        describes its pixels (Rows and Columns, Image Pixel module, PS3.3 C.7.6.3) but has no
        Pixel Data, which follows them (Type 1C wherever the IOD is an image);
      * an instance with neither Study Instance UID (Type 1 in every IOD with a Study module;
        the Patient and Study modules follow the SOP Common attributes) nor pixel data.

    Header-only data sets of pydicom's test files (no Image Pixel module, or pixel data with no
    Study module) are not refused: their end is there. Raises DicomReadError."""
    sop_class = raw_values.text(dataset, SOP_CLASS_UID)
    if not sop_class or not raw_values.text(dataset, SOP_INSTANCE_UID):
        return
    present = scanned if scanned is not None else {int(tag) for tag in dataset.keys()}
    pixels = has_pixel_data or bool(PIXEL_DATA_TAGS & present)
    if not pixels and not raw_values.text(dataset, STUDY_INSTANCE_UID):
        raise DicomReadError("damaged or truncated: an instance with no Study Instance UID and no pixel data "
                             "(it ends before its Patient and Study modules)")
    if not pixels and ROWS in present and COLUMNS in present and _is_image_storage(sop_class):
        raise DicomReadError(f"damaged or truncated: an image ({_uid_name(sop_class)}) whose Rows and Columns "
                             "are there but no Pixel Data")


def _is_image_storage(sop_class: str) -> bool:
    return _uid_name(sop_class).endswith("Image Storage")


def _uid_name(uid: str) -> str:
    """The name of a registered UID (pydicom's UID dictionary, from PS3.6 Table A-1), else ''."""
    name = UID(uid).name
    return "" if name == uid else name


def _check_pixel_length(dataset: Dataset, length=None) -> None:
    """Native pixel data shorter than Rows x Columns x frames says the file was cut off."""
    if length is None:
        element = dataset["PixelData"]
        length = 0xFFFFFFFF if getattr(element, "is_undefined_length", False) else len(element.value or b"")
    if length == 0xFFFFFFFF or transfer_syntax_of(dataset) not in (
            IMPLICIT_LITTLE, EXPLICIT_LITTLE, EXPLICIT_BIG, DEFLATED):
        return
    try:   # read from the raw bytes: these elements stay raw, written back as they were
        samples = raw_values.integer(dataset, SAMPLES_PER_PIXEL)
        if raw_values.text(dataset, PHOTOMETRIC_INTERPRETATION).startswith("YBR_FULL_422"):
            samples = 2   # chroma subsampled: two values per pixel on average
        expected = (raw_values.integer(dataset, ROWS) * raw_values.integer(dataset, COLUMNS)
                    * (raw_values.integer(dataset, NUMBER_OF_FRAMES) or 1)
                    * samples * raw_values.integer(dataset, BITS_ALLOCATED)) // 8
    except Exception:
        return
    if expected and length < expected:
        raise DicomReadError(f"truncated: pixel data has {length} of {expected} bytes")


_META_TAGS = {"MediaStorageSOPClassUID": 0x00020002, "MediaStorageSOPInstanceUID": 0x00020003,
              "TransferSyntaxUID": 0x00020010}


def _meta_value(dataset: Dataset, keyword: str) -> str:
    """A UID of the file meta, read from its bytes if it was never decoded."""
    meta = getattr(dataset, "file_meta", None)
    return raw_values.text(meta, _META_TAGS[keyword]) if meta is not None else ""


def transfer_syntax_of(dataset: Dataset) -> str:
    """The Transfer Syntax UID (str) of the data set: from its file meta (read raw if never decoded), else
    the one its body was read in (Implicit VR Little, Explicit VR Little or Explicit VR Big Endian, PS3.5 A.1-A.3)."""
    ts = _meta_value(dataset, "TransferSyntaxUID")
    if ts:
        return ts
    implicit, little = _original_encoding(dataset)
    if implicit:
        return IMPLICIT_LITTLE
    return EXPLICIT_LITTLE if little else EXPLICIT_BIG


def read_big_endian(dataset: Dataset) -> bool:
    """Whether the data set's body was read as Explicit VR Big Endian (its binary values, OW and
    the like, are then in big-endian byte order)."""
    return not _original_encoding(dataset)[1]


def _original_encoding(dataset: Dataset) -> tuple:
    if PYDICOM_MAJOR >= 3:
        implicit, little = dataset.original_encoding
    else:
        implicit, little = dataset.is_implicit_VR, dataset.is_little_endian
    return (True if implicit is None else implicit), (True if little is None else little)


def content_digest(path: Path) -> str:
    """SHA-256 of the file's bytes, read in chunks (memory stays flat for large files)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def replace_file_meta(dataset: Dataset, transfer_syntax: str, sop_instance_uid: str) -> None:
    """A new file meta group built from the de-identified data set, and an empty preamble."""
    sop_class = raw_values.text(dataset, SOP_CLASS_UID) or _meta_value(dataset, "MediaStorageSOPClassUID")
    elements = [(0x00020001, "OB", b"\x00\x01"), (0x00020002, "UI", sop_class),
                (0x00020003, "UI", sop_instance_uid), (0x00020010, "UI", UID(transfer_syntax)),
                (0x00020012, "UI", IMPLEMENTATION_CLASS_UID), (0x00020013, "SH", IMPLEMENTATION_VERSION_NAME)]
    dataset.file_meta = FileMetaDataset({BaseTag(tag): DataElement(tag, vr, value, validation_mode=config.IGNORE)
                                         for tag, vr, value in elements if value})
    dataset.preamble = b"\x00" * 128


def write_dataset(dataset: Dataset, target: Path, layout: SourceLayout | None = None, check=None) -> None:
    """Write atomically: nothing appears at `target` unless the whole file was written.
    `layout` (from read_source) lets unchanged elements be copied from the input's bytes.
    `check(path)` runs on the written temporary file before the rename; if it raises, nothing
    is left behind (output_check.check_output)."""
    target = Path(target)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    try:
        try:
            handle = open(temporary, "wb")
        except FileNotFoundError:   # the folder's first file (trying first saves a mkdir per file)
            target.parent.mkdir(parents=True, exist_ok=True)
            handle = open(temporary, "wb")
        with handle:
            _save(dataset, handle, layout)
        if check is not None:
            check(temporary)
        # The rename is atomic: a killed run leaves a hidden .partial file (removed by the next
        # run), never a half-written output. No fsync: like cp, durability is the OS's job.
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def prepare_for_writing(dataset: Dataset) -> None:
    """Elements kept undecoded are written back as read; a body encoded other than its
    transfer syntax says must be decoded first so that it can be re-encoded."""
    if _needs_decoding(dataset, UID(dataset.file_meta.TransferSyntaxUID)):
        for _ in dataset.iterall():
            pass


def _save(dataset: Dataset, handle, layout: SourceLayout | None = None) -> None:
    ts = UID(dataset.file_meta.TransferSyntaxUID)
    prepare_for_writing(dataset)
    if ts != DEFLATED:
        write_to(handle, dataset, layout)
    elif PYDICOM_MAJOR >= 3:
        dataset.save_as(handle, enforce_file_format=True)
    else:
        dataset.is_implicit_VR = ts.is_implicit_VR
        dataset.is_little_endian = ts.is_little_endian
        dataset.save_as(handle, write_like_original=False)


def needs_decoding(dataset: Dataset) -> bool:
    """Whether the body must be decoded before it is written: it was read in another encoding than its
    transfer syntax says, or (explicit VR) pydicom left raw elements without a VR."""
    return _needs_decoding(dataset, UID(transfer_syntax_of(dataset)))


def _needs_decoding(dataset: Dataset, ts: UID) -> bool:
    if _original_encoding(dataset) != (ts.is_implicit_VR, ts.is_little_endian):
        return True
    # pydicom may read part of a body as implicit VR while calling it explicit (a VR mismatch
    # in the file): such raw elements carry no VR.
    return not ts.is_implicit_VR and any(element.VR is None for element in dataset.values())


def remove_partial_files(folder: Path) -> int:
    """Temporary files left by a run that was killed; they never held a finished output.
    A partial file whose writer is still running (another run into the same folder) stays."""
    count = 0
    for path in Path(folder).rglob(f".*{PARTIAL_SUFFIX}"):
        if _writer_alive(path):
            continue
        path.unlink(missing_ok=True)
        count += 1
    return count


def _writer_alive(path: Path) -> bool:
    """Partial files are named .<name>.<pid>.<random>.partial by write_dataset. Its writer counts
    as alive if that process runs (not a zombie) and the file changed in the last minutes: a
    pid can be reused, and a live writer keeps writing."""
    try:
        pid = int(path.name[: -len(PARTIAL_SUFFIX)].rsplit(".", 2)[-2])
        if pid == os.getpid() or time.time() - path.stat().st_mtime > STALE_PARTIAL_SECONDS:
            return False
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, FileNotFoundError):
        return False
    except PermissionError:
        pass   # another user's live process
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"   # killed, not yet reaped
    except OSError:
        return True   # no /proc: trust kill()


def _describe(error: Exception) -> str:
    # the type only: pydicom's parse errors may quote bytes of the file (errors.error_kind)
    return error_kind(error)
