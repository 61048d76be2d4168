"""Keyed hashing (HMAC-SHA256): the one source of every derived value.

UIDs, pseudonyms and date offsets are all functions of (key, original value),
so they are the same across files, runs, processes and machines that share
the key, and cannot be recomputed without it.
"""
from __future__ import annotations

import hashlib
import hmac

MIN_KEY_BYTES = 16


class KeyedHasher:
    """HMAC-SHA256 with the pseudonym key (Python's hmac, RFC 2104).

    `key` is bytes of at least MIN_KEY_BYTES (16); anything shorter or not bytes raises ValueError.
    Every output depends on a `purpose` string as well as the value, so equal texts with different
    purposes ('uid', 'patient', 'date-offset', ...) get unrelated outputs."""
    def __init__(self, key: bytes):
        if not isinstance(key, (bytes, bytearray)) or len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the pseudonym key must be at least {MIN_KEY_BYTES} bytes")
        self._key = bytes(key)

    def digest(self, purpose: str, value: str) -> bytes:
        """The 32-byte HMAC-SHA256 of `purpose` and `value` (both str, UTF-8 encoded) under the key."""
        # The purpose prefix keeps e.g. a UID and a Patient ID with equal text apart.
        return hmac.new(self._key, f"{purpose}\x00{value}".encode("utf-8"), hashlib.sha256).digest()

    def integer(self, purpose: str, value: str, bits: int = 128) -> int:
        """The first `bits` bits (at most 256) of digest(purpose, value) as a non-negative int below 2**bits."""
        return int.from_bytes(self.digest(purpose, value), "big") >> (256 - bits)
