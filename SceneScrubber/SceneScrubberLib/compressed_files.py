"""Compressed and NIfTI files of a scene: what they hold is read, so that nothing is certified unread.

gzip members (a NIfTI '.nii.gz', 'notes.txt.gz', any file that starts with gzip's magic bytes)
are decompressed as a stream (GzipStream: zlib inflates each member; nothing decompressed is
written to disk, and a stream that decompresses to more than MAX_DECOMPRESSED_BYTES, or to more
than MAX_RATIO times its compressed size, is refused as it is read) and read:
  * NIfTI-1 and NIfTI-2 headers (nibabel is not a dependency; the NIfTI-1 standard,
    https://nifti.nimh.nih.gov/pub/dist/src/niftilib/nifti1.h, and nifti2.h give the text fields
    at fixed offsets: NIfTI-1's data_type (10 bytes) and db_name (18, Analyze fields that
    Analyze-derived tools fill), descrip (80), aux_file (24), intent_name (16); NIfTI-2 has only
    the last three) have each spelling in those fields replaced, the field's length kept (NUL
    padded). A field is decoded as UTF-8, Latin-1 only when it is no UTF-8, and written back in
    the same. Header extensions (dcm2niix's, an embedded DICOM header) holding a spelling are
    refused: they are not rewritten;
  * text (text_encodings.is_text) is scrubbed like any text file and compressed again;
  * anything else is searched for the long spellings; one found there is refused.
gzip's own header can carry text as well: FNAME (the original file name, which gzip and Python
record: 'Doe_John_T1.nii'), FCOMMENT and FEXTRA (RFC 1952, 2.3.1). They are searched by the check,
and a scrubbed file never keeps them: a file whose header (of any member) holds one is written
again without it, even when its content is unchanged. Otherwise an unchanged file is copied byte
for byte. A damaged gzip stream is refused.
"""
from __future__ import annotations

import math
import shutil
import struct
import tempfile
import zlib

GZIP_MAGIC = b"\x1f\x8b"
MAX_DECOMPRESSED_BYTES = 16 << 30   # a larger stream is refused (a decompression bomb is no scene)
# deflate's own limit is about 1032:1; an image of zeros comes near it, so the bound is that limit
MAX_RATIO = 1100
NIFTI1_TEXT = ((4, 10), (14, 18), (148, 80), (228, 24), (328, 16))   # data_type, db_name, descrip, aux_file, intent_name
NIFTI2_TEXT = ((240, 80), (320, 24), (508, 16))   # descrip, aux_file, intent_name
NIFTI_HEADER_BYTES = 540
_FHCRC, _FEXTRA, _FNAME, _FCOMMENT = 2, 4, 8, 16


class CompressedError(Exception):
    """A compressed file cannot be read (damaged, too large); the message names no value."""


def is_gzip(head: bytes) -> bool:
    """Whether the first bytes of a file are gzip's magic number (RFC 1952, section 2.3.1)."""
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


def field_text(raw: bytes) -> tuple:
    """(text, encoding) of a header's char field up to its first NUL: UTF-8 (what tools write
    today), else Latin-1, which decodes every byte."""
    raw = raw.split(b"\0")[0]
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def nifti_fields(header: bytes) -> list:
    """[(offset, length, text, encoding)] of a NIfTI header's char fields (see the module's text)."""
    kind = nifti_kind(header)
    if kind is None:
        return []
    fields = NIFTI1_TEXT if kind[0] == 1 else NIFTI2_TEXT
    return [(offset, length, *field_text(header[offset:offset + length])) for offset, length in fields]


def nifti_extensions(data: bytes) -> bytes:
    """The header extensions of a NIfTI file (its bytes between the header and the data; b'' when
    the extension flag is 0). `data` starts with the header and holds at least vox_offset bytes.
    CompressedError for a vox_offset that is no finite number or is negative (a damaged header),
    with or without extensions."""
    kind = nifti_kind(data)
    if kind is None:
        return b""
    version, order = kind
    size = 348 if version == 1 else 540
    if len(data) < (112 if version == 1 else 176):
        return b""
    offset = struct.unpack(order + "f", data[108:112])[0] if version == 1 else \
        struct.unpack(order + "q", data[168:176])[0]
    if not math.isfinite(offset):
        raise CompressedError("its NIfTI header's vox_offset (where the image data starts) is not a number "
                              "(damaged header)")
    if offset < 0:   # 0 for a .hdr/.img pair, else where the data starts: never before the file
        raise CompressedError("its NIfTI header's vox_offset (where the image data starts) is negative "
                              "(damaged header)")
    if len(data) < size + 4 or data[size] == 0:
        return b""
    return data[size + 4:max(size + 4, min(int(offset), len(data)))]


def _fitted(text: str, encoding: str, length: int) -> bytes:
    """`text` in `encoding`, cut to `length` bytes at a character's end, NUL padded."""
    data = text.encode(encoding, "replace")[:length]
    data = data.decode(encoding, "ignore").encode(encoding)   # a UTF-8 character cut in two is dropped
    return data.ljust(length, b"\0")


def cleaned_nifti_header(header: bytearray, redact) -> bool:
    """Replace each spelling in the char fields of a NIfTI header in place (`redact`: text -> text);
    whether anything changed. A field keeps its length (truncated, NUL padded) and its encoding."""
    changed = False
    for offset, length, text, encoding in nifti_fields(bytes(header)):
        new = redact(text)
        if new != text:
            header[offset:offset + length] = _fitted(new, encoding, length)
            changed = True
    return changed


def _member_header(read) -> tuple:
    """(the text fields of one gzip member's header: FNAME, FCOMMENT, FEXTRA as bytes; whether it
    had any) read with `read(n)`; None at the end of the stream. CompressedError when damaged."""
    magic = read(2)
    if not magic:
        return None
    fixed = magic + read(8)
    if len(fixed) < 10 or fixed[:2] != GZIP_MAGIC or fixed[2] != 8:
        raise CompressedError("it is a damaged gzip stream (bad member header)")
    flags, fields = fixed[3], []
    if flags & _FEXTRA:
        size = read(2)
        if len(size) < 2:
            raise CompressedError("it is a damaged gzip stream (truncated header)")
        fields.append(read(struct.unpack("<H", size)[0]))
    for flag in (_FNAME, _FCOMMENT):
        if flags & flag:
            text = bytearray()
            while True:
                byte = read(1)
                if not byte:
                    raise CompressedError("it is a damaged gzip stream (truncated header)")
                if byte == b"\0":
                    break
                text += byte
                if len(text) > 1 << 16:
                    raise CompressedError("it is a damaged gzip stream (a header field without end)")
            fields.append(bytes(text))
    if flags & _FHCRC:
        read(2)
    return fields, bool(flags & (_FEXTRA | _FNAME | _FCOMMENT))


class GzipStream:
    """The decompressed content of a gzip file (every member, RFC 1952) read as a stream with
    `read(n)`, from a seekable raw file; `header_texts` are the FNAME/FCOMMENT/FEXTRA fields of the
    members read so far and `has_header_text` whether any member had one (all members once the
    stream is read to its end). CRC and size of each member are verified; CompressedError for a
    damaged stream or one that decompresses beyond its bound (MAX_DECOMPRESSED_BYTES, MAX_RATIO
    times the compressed size), raised before those bytes are handed out."""

    CHUNK = 1 << 20

    def __init__(self, raw, compressed_size: int):
        self._raw, self._buffer, self._pending = raw, bytearray(), b""
        self._limit = min(MAX_DECOMPRESSED_BYTES, max(1 << 20, MAX_RATIO * compressed_size))
        self._total, self._inflater, self._done = 0, None, False
        self.header_texts, self.has_header_text = [], False
        self._crc = self._size = 0

    def _read_raw(self, size: int) -> bytes:
        data = self._pending[:size]
        self._pending = self._pending[size:]
        if len(data) < size:
            data += self._raw.read(size - len(data))
        return data

    def _start_member(self) -> bool:
        while True:   # gzip files may be padded with zeros after the last member (as gzip reads them)
            byte = self._read_raw(1)
            if byte != b"\0":
                break
        if not byte:
            return False
        self._pending = byte + self._pending
        found = _member_header(self._read_raw)
        if found is None:
            return False
        fields, has_text = found
        self.header_texts += fields
        self.has_header_text |= has_text
        self._inflater, self._crc, self._size = zlib.decompressobj(-zlib.MAX_WBITS), 0, 0
        return True

    def _fill(self, wanted: int) -> None:
        try:
            while len(self._buffer) < wanted and not self._done:
                if self._inflater is None and not self._start_member():
                    self._done = True
                    break
                chunk = self._read_raw(self.CHUNK)
                out = self._inflater.decompress(chunk, self.CHUNK) if chunk else self._inflater.flush()
                if not chunk and not self._inflater.eof:
                    raise CompressedError("it is a damaged gzip stream (truncated)")
                self._add(out)
                if not self._inflater.eof:   # what the inflater did not take yet is fed again first
                    self._pending = self._inflater.unconsumed_tail + self._pending
                else:   # at the end, unused_data holds what follows (unconsumed_tail may repeat it)
                    self._pending = self._inflater.unused_data + self._pending
                    trailer = self._read_raw(8)
                    if len(trailer) < 8:
                        raise CompressedError("it is a damaged gzip stream (truncated)")
                    crc, size = struct.unpack("<II", trailer)
                    if crc != self._crc or size != self._size & 0xFFFFFFFF:
                        raise CompressedError("it is a damaged gzip stream (bad CRC or length)")
                    self._inflater = None
        except zlib.error:
            raise CompressedError("it is a damaged gzip stream (corrupt compressed data)") from None

    def _add(self, out: bytes) -> None:
        self._total += len(out)
        if self._total > self._limit:
            raise CompressedError(f"it decompresses to more than {self._limit} bytes (over {MAX_RATIO} times its "
                                  "compressed size, or 16 GiB), which the scrubber does not read: refused as a "
                                  "decompression bomb")
        self._crc = zlib.crc32(out, self._crc)
        self._size += len(out)
        self._buffer += out

    def read(self, size: int = -1) -> bytes:
        """Up to `size` decompressed bytes (all that is left for -1); b'' at the end."""
        if size is None or size < 0:
            chunks = []
            while True:
                chunk = self.read(self.CHUNK)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        self._fill(size)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def drain(self) -> None:
        """Read to the end (every CRC verified, every member's header seen)."""
        while self.read(self.CHUNK):
            pass


def staged_gzip(head: bytes, source) -> tuple:
    """(raw copy, its size): an anonymous temporary file at position 0 holding the gzip file read
    from `source` (`head`: its first bytes, read already). Only the compressed bytes are kept."""
    raw = tempfile.TemporaryFile()
    raw.write(head)
    shutil.copyfileobj(source, raw, 1 << 20)
    size = raw.tell()
    raw.seek(0)
    return raw, size


def opened_gzip(raw, size: int) -> GzipStream:
    """A GzipStream over the staged raw copy, from its start."""
    raw.seek(0)
    return GzipStream(raw, size)


def header_text(stream: GzipStream) -> str:
    """The gzip header's text fields of every member read (FNAME, FCOMMENT, FEXTRA), one a line."""
    return "\n".join(field_text(field)[0] for field in stream.header_texts)


def nifti_text(first: bytes) -> str:
    """The text a NIfTI file's header holds: its char fields and its extensions (UTF-8, else
    Latin-1), one a line, to search for spellings."""
    return "\n".join([text for _offset, _length, text, _encoding in nifti_fields(first)]
                     + [field_text(nifti_extensions(first).replace(b"\0", b"\n"))[0]])


def read_nifti_start(head: bytes, stream) -> bytearray:
    """A NIfTI file's header and extensions (up to MAX_NIFTI_START bytes), `head` read already."""
    return bytearray(head + stream.read(max(0, MAX_NIFTI_START - len(head))))


MAX_NIFTI_START = 1 << 20   # header and extensions read; the data after them is image data
