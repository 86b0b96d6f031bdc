"""Local accounts: ``User`` nodes in the graph, passwords hashed with scrypt.

A user node holds ``username, role, counties, sector, email, pw_hash, pw_salt, pw_alg,
disabled, created, user_id`` plus the sign-in counters ``failed_logins, locked_until,
last_login``. Plain passwords are never stored or logged.

Password hash: ``scrypt(pepper(password), salt, n=2**14, r=8, p=1, dklen=32)`` with a 16-byte
random salt per user. The pepper is an HMAC-SHA256 of the password under a key derived from the
riskgraph hash key (``RISKGRAPH_HASH_KEY`` or ``RISKGRAPH_HOME/secrets/hash_key``, see
:func:`riskgraph.identifiers.load_hash_key`), so a copy of the database alone is not enough to
test guesses offline. Verification is constant-time (:func:`hmac.compare_digest`) and does the
same scrypt work for unknown users, disabled or locked accounts, so timing does not reveal them.

Lockout: after ``max_failures`` failed sign-ins in a row the account is locked for
``lockout_minutes`` (counted in the graph, so it holds across app processes).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from neo4j import Driver

from graph import access, cypher, keycheck
from riskgraph.errors import RejectedError, UsageError
from riskgraph.identifiers import load_hash_key
from riskgraph.settings import AUTH_LOCKOUT_MINUTES, AUTH_MAX_FAILURES, Settings
from security.roles import check_assignment

PW_ALG = "scrypt-n16384-r8-p1-hmac-v1"
SCRYPT_N, SCRYPT_R, SCRYPT_P, DKLEN = 2 ** 14, 8, 1, 32
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
MAX_USERNAME = 128
DEFAULT_MAX_FAILURES = AUTH_MAX_FAILURES  # RISKGRAPH_AUTH_MAX_FAILURES unset
DEFAULT_LOCKOUT_MINUTES = AUTH_LOCKOUT_MINUTES
_PEPPER_CONTEXT = b"riskgraph/password-pepper/v1"
_DUMMY_SALT = bytes(16)


@dataclass(frozen=True)
class User:
    """A local account as the app sees it (never carries the password hash)."""

    username: str
    role: str
    counties: tuple[str, ...] = ()
    sector: str | None = None
    email: str | None = None
    disabled: bool = False
    created: str = ""
    locked_until: str | None = None

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> User:
        return cls(
            username=str(props["username"]),
            role=str(props.get("role") or ""),
            counties=tuple(str(c) for c in (props.get("counties") or ())),
            sector=props.get("sector") or None,
            email=props.get("email") or None,
            disabled=bool(props.get("disabled")),
            created=str(props.get("created") or ""),
            locked_until=props.get("locked_until") or None,
        )


class LoginStatus(Enum):
    OK = "ok"
    BAD = "bad_credentials"
    LOCKED = "locked"
    DISABLED = "disabled"
    UNKNOWN = "unknown_user"


@dataclass(frozen=True)
class LoginResult:
    """The outcome of one sign-in. Show users only :attr:`message`: it is the same for every
    failure, so it does not tell whether an account exists or is locked."""

    status: LoginStatus
    user: User | None = None
    locked_now: bool = False

    @property
    def ok(self) -> bool:
        return self.status is LoginStatus.OK

    @property
    def message(self) -> str:
        if self.ok:
            return ""
        return "用户名或密码错误，或账户已被临时锁定 / wrong username or password, or locked"


def write_read(driver: Driver, query: str,
               params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run one write query in a managed transaction and return its records."""
    return access.write_read(driver, query, params)


def now_iso(now: datetime | None = None) -> str:
    """UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (sortable as text)."""
    return (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")


def check_username(username: str) -> str:
    """The username as given (stored verbatim). Only empty names, control characters and
    overlong names are refused; any other text, HTML or Cypher-like, is plain data."""
    if not isinstance(username, str) or not username.strip():
        raise UsageError("the username is empty", "give a username")
    if len(username) > MAX_USERNAME:
        raise UsageError(f"the username is longer than {MAX_USERNAME} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in username):
        raise UsageError("the username contains control characters")
    return username


def check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise UsageError(f"the password is shorter than {MIN_PASSWORD} characters",
                         "choose a longer password (a passphrase is fine)")
    if len(password) > MAX_PASSWORD:
        raise UsageError(f"the password is longer than {MAX_PASSWORD} characters")


def _pepper_key(settings: Settings) -> bytes:
    base = load_hash_key(settings.secrets_dir, settings.hash_key)
    return hmac.new(base, _PEPPER_CONTEXT, hashlib.sha256).digest()


def _checked_pepper(driver: Driver, settings: Settings) -> bytes:
    """The pepper for a password about to be stored, after checking that the graph's key
    fingerprint is this installation's and recording it if the graph has none
    (:mod:`graph.keycheck`): a password stored under another key could never be checked."""
    base = load_hash_key(settings.secrets_dir, settings.hash_key)
    keycheck.verify(driver, base)  # the accounts live in the default database
    keycheck.record(driver, base, "users")
    return hmac.new(base, _PEPPER_CONTEXT, hashlib.sha256).digest()


def hash_password(password: str, salt: bytes, pepper: bytes) -> bytes:
    """The stored hash of ``password`` (scrypt over the HMAC-peppered password)."""
    peppered = hmac.new(pepper, password.encode("utf-8"), hashlib.sha256).digest()
    return hashlib.scrypt(peppered, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                          maxmem=64 * 1024 * 1024, dklen=DKLEN)


def add_user(driver: Driver, settings: Settings, username: str, role: str, password: str,
             counties: tuple[str, ...] | list[str] = (), sector: str | None = None,
             email: str | None = None, now: datetime | None = None) -> User:
    """Create a local account. Bad role, county or sector: :class:`UsageError` (exit 2); an
    existing username: :class:`RejectedError` (exit 1), the existing account is untouched."""
    check_username(username)
    check_password(password)
    _, resolved, sector_zh = check_assignment(role, tuple(counties), sector, settings.city)
    salt = secrets.token_bytes(16)
    digest = hash_password(password, salt, _checked_pepper(driver, settings))
    props = {
        "username": username, "role": role, "counties": list(resolved), "sector": sector_zh,
        "email": (email or "").strip().lower() or None, "pw_hash": digest.hex(),
        "pw_salt": salt.hex(), "pw_alg": PW_ALG, "disabled": False, "created": now_iso(now),
        "user_id": uuid.uuid4().hex, "failed_logins": 0,
    }
    rows = write_read(driver, cypher.security_user_create(),
                             {"username": username, "props": props})
    if not rows or not rows[0]["created"]:
        raise RejectedError(f"user {username!r} already exists", "pick another username")
    return User.from_props(props)


def get_user(driver: Driver, username: str) -> User | None:
    """The account called ``username`` (None when there is none)."""
    rows = access.read(driver, cypher.security_user_get(), {"username": username})
    return User.from_props(rows[0]["user"]) if rows else None


def find_by_email(driver: Driver, email: str) -> User | None:
    """The one account with ``email`` (None when none or ambiguous)."""
    value = (email or "").strip().lower()
    if not value:
        return None
    rows = access.read(driver, cypher.security_user_by_email(), {"email": value})
    return User.from_props(rows[0]["user"]) if len(rows) == 1 else None


def list_users(driver: Driver) -> list[User]:
    """Every account, by username."""
    return [User.from_props(r["user"]) for r in access.read(driver, cypher.security_users_list())]


def _update_account(driver: Driver, query: str, username: str, now: datetime | None) -> User:
    """Run an account update by ``username``; the updated account, :class:`RejectedError`
    when there is no such account."""
    rows = write_read(driver, query, {"username": username, "at": now_iso(now)})
    if not rows:
        raise RejectedError(f"no user {username!r}", "see: riskgraph users list")
    user = get_user(driver, username)
    assert user is not None
    return user


def disable_user(driver: Driver, username: str, now: datetime | None = None) -> User:
    """Disable an account (it can no longer sign in); :class:`RejectedError` when unknown."""
    return _update_account(driver, cypher.security_user_disable(), username, now)


def enable_user(driver: Driver, username: str, now: datetime | None = None) -> User:
    """Enable a disabled account again (lockout cleared); :class:`RejectedError` when
    unknown."""
    return _update_account(driver, cypher.security_user_enable(), username, now)


def set_password(driver: Driver, settings: Settings, username: str, password: str,
                 now: datetime | None = None) -> User:
    """Give an account a new password (fresh salt; lockout cleared). A short password:
    :class:`UsageError` (exit 2); an unknown user: :class:`RejectedError` (exit 1)."""
    check_password(password)
    salt = secrets.token_bytes(16)
    digest = hash_password(password, salt, _checked_pepper(driver, settings))
    rows = write_read(driver, cypher.security_user_set_password(), {
        "username": username, "pw_hash": digest.hex(), "pw_salt": salt.hex(),
        "pw_alg": PW_ALG, "at": now_iso(now)})
    if not rows:
        raise RejectedError(f"no user {username!r}", "see: riskgraph users list")
    user = get_user(driver, username)
    assert user is not None
    return user


def verify(driver: Driver, settings: Settings, username: str, password: str, *,
           max_failures: int = DEFAULT_MAX_FAILURES,
           lockout_minutes: float = DEFAULT_LOCKOUT_MINUTES,
           now: datetime | None = None) -> LoginResult:
    """Check a username and password. Constant-time comparison; the same scrypt work is done
    whatever the account state; failures are counted and lock the account at
    ``max_failures``; success clears the counter."""
    when = now or datetime.now(UTC)
    rows = access.read(driver, cypher.security_user_get(), {"username": username})
    props = rows[0]["user"] if rows else None
    pepper = _pepper_key(settings)
    salt = _DUMMY_SALT
    stored = b""
    if props and props.get("pw_alg") == PW_ALG:
        try:
            salt, stored = bytes.fromhex(props["pw_salt"]), bytes.fromhex(props["pw_hash"])
        except (KeyError, TypeError, ValueError):
            salt, stored = _DUMMY_SALT, b""
    candidate = hash_password(password if isinstance(password, str) else "", salt, pepper)
    # compare even when nothing is stored, so both paths cost the same
    matches = hmac.compare_digest(candidate, stored or bytes(DKLEN)) and bool(stored)
    if props is None:
        return LoginResult(LoginStatus.UNKNOWN)
    user = User.from_props(props)
    if user.locked_until and user.locked_until > now_iso(when):
        return LoginResult(LoginStatus.LOCKED, user)
    if user.disabled:
        return LoginResult(LoginStatus.DISABLED, user)
    if not matches:
        until = now_iso(when + timedelta(minutes=lockout_minutes))
        out = write_read(driver, cypher.security_login_failed(), {
            "username": username, "max_failures": max(1, int(max_failures)), "until": until,
            "at": now_iso(when)})
        locked = bool(out and out[0]["locked"])
        return LoginResult(LoginStatus.LOCKED if locked else LoginStatus.BAD, user, locked)
    write_read(driver, cypher.security_login_ok(),
                      {"username": username, "at": now_iso(when)})
    return LoginResult(LoginStatus.OK, user)
