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
    def __init__(self, key: bytes):
        if not isinstance(key, (bytes, bytearray)) or len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the pseudonym key must be at least {MIN_KEY_BYTES} bytes")
        self._key = bytes(key)

    def digest(self, purpose: str, value: str) -> bytes:
        # The purpose prefix keeps e.g. a UID and a Patient ID with equal text apart.
        return hmac.new(self._key, f"{purpose}\x00{value}".encode("utf-8"), hashlib.sha256).digest()

    def integer(self, purpose: str, value: str, bits: int = 128) -> int:
        return int.from_bytes(self.digest(purpose, value), "big") >> (256 - bits)
