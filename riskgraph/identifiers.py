"""Chinese identifiers: check characters, masking and keyed hashing.

* USCC (统一社会信用代码), GB 32100-2015: 18 characters from a 31-character alphabet, the last a
  check character (weights 3^i mod 31). Characters 3-8 are the registering division.
* Old business registration numbers (注册号), 15 digits, GB/T 15425-style ISO 7064 MOD 11,10.
* Citizen ID (身份证号), GB 11643-1999: 17 digits + check character (ISO 7064 MOD 11-2).

Citizen IDs are never stored raw: :func:`person_key` gives a keyed hash (HMAC-SHA256 with a key
kept outside the database and the repository, see :func:`load_hash_key`), :func:`mask_id` a
masked form for display.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

_USCC_RE = re.compile(rf"^[{USCC_ALPHABET}]{{18}}$")
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MASKED_ID_RE = re.compile(r"^(\d{0,6})[*＊xX]{4,}(\d{0,4}[\dX]?)$")


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """True when ``code`` is 18 characters of the alphabet with a correct check character."""
    if not _USCC_RE.match(code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def uscc_division(code: str) -> str:
    """Characters 3-8 of a USCC: the division code of the registering authority."""
    return code[2:8]


def regno_check_digit(first14: str) -> str:
    """ISO 7064 MOD 11,10 check digit of a 15-digit registration number."""
    p = 10
    for ch in first14:
        s = (p + int(ch)) % 10 or 10
        p = (s * 2) % 11
    return str((11 - p) % 10)


def is_valid_regno(code: str) -> bool:
    """True for a 15-digit 注册号 with a correct MOD 11,10 check digit."""
    return len(code) == 15 and code.isdigit() and regno_check_digit(code[:14]) == code[14]


def id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_valid_citizen_id(code: str) -> bool:
    """True for an 18-character ID with a correct check character and a possible birth date.

    The prefix is not checked against today's divisions: abolished codes stay valid.
    """
    if not _ID_RE.match(code):
        return False
    if id_check_char(code[:17]) != code[17]:
        return False
    year, month, day = int(code[6:10]), int(code[10:12]), int(code[12:14])
    if not (1900 <= year <= 2030 and 1 <= month <= 12 and 1 <= day <= 31):
        return False
    return True


def is_masked_id(code: str) -> bool:
    """``410502********1234`` and similar masked forms."""
    return bool(_MASKED_ID_RE.match(code))


def mask_id(code: str) -> str:
    """``410502199001011234`` → ``410502********1234``."""
    if len(code) < 10:
        return "*" * len(code)
    return code[:6] + "*" * (len(code) - 10) + code[-4:]


def mask_name(name: str) -> str:
    """``张三`` → ``张某``; ``欧阳娜娜`` → ``欧某某某``; already masked names stay as they are."""
    if not name:
        return name
    return name[0] + "某" * max(1, len(name) - 1)


def is_masked_name(name: str) -> bool:
    return len(name) >= 2 and set(name[1:]) <= {"某", "*", "＊", "x", "X"}


def load_hash_key(secrets_dir: Path, configured: str | None = None) -> bytes:
    """The HMAC key for personal identifiers.

    ``configured`` (setting ``RISKGRAPH_HASH_KEY``) wins; else the key file
    ``<secrets_dir>/hash_key`` (mode 0600) is read, or created on first use. The key lives
    outside the database and the repository; losing it makes existing person keys unmatchable.
    """
    if configured:
        return configured.encode("utf-8")
    path = secrets_dir / "hash_key"
    if path.exists():
        return path.read_bytes().strip()
    secrets_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


KEY_FINGERPRINT_TEXT = "riskgraph hash key fingerprint v1"


def key_fingerprint(key: bytes) -> str:
    """A short fingerprint of the hash key: the keyed hash of a fixed text. Two keys give
    different fingerprints; the fingerprint gives nothing to guess identifiers with (the key
    is 256 random bits), so it may be stored in the graph (:mod:`graph.keycheck`)."""
    return keyed_hash(KEY_FINGERPRINT_TEXT, key, 16)


def keyed_hash(value: str, key: bytes, length: int = 24) -> str:
    """Hex HMAC-SHA256 of ``value`` under ``key``, shortened to ``length`` characters."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:length]


def person_key(citizen_id: str, key: bytes) -> str:
    """The graph key of a person known by a valid citizen ID: ``P:`` + keyed hash."""
    return "P:" + keyed_hash(citizen_id.upper(), key)
