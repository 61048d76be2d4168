"""Compressed and NIfTI files of a scene: what they hold is read, so that nothing is certified unread.

gzip members (a NIfTI '.nii.gz', 'notes.txt.gz', any file that starts with gzip's magic bytes)
are decompressed (to an anonymous temporary file, bounded by MAX_DECOMPRESSED_BYTES) and read:
  * NIfTI-1 and NIfTI-2 headers (nibabel is not in the venv; the NIfTI-1 standard,
    https://nifti.nimh.nih.gov/pub/dist/src/niftilib/nifti1.h, and nifti2.h give the text fields
    at fixed offsets: descrip (80 bytes), aux_file (24), intent_name (16)) have each spelling in
    those fields replaced, the field's length kept (NUL padded); header extensions (dcm2niix's,
    an embedded DICOM header) holding a spelling are refused: they are not rewritten;
  * text (text_encodings.is_text) is scrubbed like any text file and compressed again;
  * anything else is searched for the long spellings; one found there is refused.
A gzip file is written again (without gzip's original-file-name field, which can carry a name)
only when something changed, else copied byte for byte. A damaged gzip stream is refused.
"""
from __future__ import annotations

import gzip
import shutil
import struct
import tempfile
import zlib

GZIP_MAGIC = b"\x1f\x8b"
MAX_DECOMPRESSED_BYTES = 16 << 30   # a larger stream is refused (a decompression bomb is no scene)
NIFTI1_TEXT = ((148, 80), (228, 24), (328, 16))   # descrip, aux_file, intent_name
NIFTI2_TEXT = ((240, 80), (320, 24), (508, 16))
NIFTI_HEADER_BYTES = 540


class CompressedError(Exception):
    """A compressed file cannot be read (damaged, too large); the message names no value."""


def is_gzip(head: bytes) -> bool:
    return head.startswith(GZIP_MAGIC)


def nifti_kind(header: bytes):
    """(version 1 or 2, byte order '<' or '>') of a NIfTI header, or None."""
    for order in "<>":
        if len(header) >= 348 and struct.unpack(order + "i", header[:4])[0] == 348 and header[344:347] in (b"n+1",
                                                                                                      b"ni1"):
            return 1, order
        if len(header) >= 540 and struct.unpack(order + "i", header[:4])[0] == 540 and header[4:7] in (b"n+2",
                                                                                                     b"ni2"):
            return 2, order
    return None


def nifti_fields(header: bytes) -> list:
    """[(offset, length, text)] of a NIfTI header's text fields (decoded as Latin-1, up to the NUL)."""
    kind = nifti_kind(header)
    if kind is None:
        return []
    fields = NIFTI1_TEXT if kind[0] == 1 else NIFTI2_TEXT
    return [(offset, length, header[offset:offset + length].split(b"\0")[0].decode("latin-1"))
            for offset, length in fields]


def nifti_extensions(data: bytes) -> bytes:
    """The header extensions of a NIfTI file (its bytes between the header and the data; b'' when
    the extension flag is 0). `data` starts with the header and holds at least vox_offset bytes."""
    kind = nifti_kind(data)
    if kind is None:
        return b""
    version, order = kind
    size = 348 if version == 1 else 540
    if len(data) < size + 4 or data[size] == 0:
        return b""
    offset = int(struct.unpack(order + "f", data[108:112])[0]) if version == 1 else \
        struct.unpack(order + "q", data[168:176])[0]
    return data[size + 4:max(size + 4, min(offset, len(data)))]


def cleaned_nifti_header(header: bytearray, redact) -> bool:
    """Replace each spelling in the text fields of a NIfTI header in place (`redact`: text -> text);
    whether anything changed. A field keeps its length (truncated, NUL padded)."""
    changed = False
    for offset, length, text in nifti_fields(bytes(header)):
        new = redact(text)
        if new != text:
            header[offset:offset + length] = new.encode("latin-1", "replace")[:length].ljust(length, b"\0")
            changed = True
    return changed


def decompressed(head: bytes, source) -> tuple:
    """(raw copy, decompressed copy): anonymous temporary files, both at position 0, of a gzip
    stream read from `source` (`head`: its first bytes, read already). CompressedError if it is damaged or decompresses to more than
    MAX_DECOMPRESSED_BYTES."""
    raw = tempfile.TemporaryFile()
    raw.write(head)
    shutil.copyfileobj(source, raw, 1 << 20)
    raw.seek(0)
    plain = tempfile.TemporaryFile()
    total = 0
    try:
        with gzip.GzipFile(fileobj=raw, mode="rb") as reader:
            while True:
                chunk = reader.read(1 << 20)
                if not chunk:
                    break
                total += len(chunk)
                if total > MAX_DECOMPRESSED_BYTES:
                    raise CompressedError("a compressed file decompresses to more than the scrubber reads")
                plain.write(chunk)
    except (OSError, EOFError, zlib.error) as error:
        raw.close()
        plain.close()
        raise CompressedError(f"a damaged compressed file ({type(error).__name__})") from None
    except CompressedError:
        raw.close()
        plain.close()
        raise
    raw.seek(0)
    plain.seek(0)
    return raw, plain


def nifti_text(first: bytes) -> str:
    """The text a NIfTI file's header holds: its text fields and its extensions (read as Latin-1),
    one a line, to search for spellings."""
    return "\n".join([text for _offset, _length, text in nifti_fields(first)]
                     + [nifti_extensions(first).decode("latin-1")])


def read_nifti_start(head: bytes, stream) -> bytearray:
    """A NIfTI file's header and extensions (up to MAX_NIFTI_START bytes), `head` read already."""
    return bytearray(head + stream.read(max(0, MAX_NIFTI_START - len(head))))


MAX_NIFTI_START = 1 << 20   # header and extensions read; the data after them is image data
