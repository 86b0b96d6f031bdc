"""Local accounts against the real Neo4j: add, verify, disable, lockout, hostile names, and the
``riskgraph users`` CLI run as a subprocess (exit codes 0 / 1 / 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import neo4j
import pytest

from graph import access
from graph.schema import apply_schema
from riskgraph.errors import RejectedError, UsageError
from riskgraph.settings import Settings
from security import audit, users
from security.users import LoginStatus

pytestmark = pytest.mark.neo4j
PASSWORD = "correct horse battery staple"
HOSTILE_NAMES = [
    "<script>alert(1)</script>",
    "x'}) MATCH (n) DETACH DELETE n //",
    'a"} ) SET u.role = "city" //',
    "王五; DROP TABLE users; --",
]
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture()
def db(clean_db: neo4j.Driver) -> neo4j.Driver:
    apply_schema(clean_db)
    return clean_db


def test_add_and_verify(db: neo4j.Driver, neo4j_settings: Settings) -> None:
    user = users.add_user(db, neo4j_settings, "wenfeng1", "county", PASSWORD,
                          counties=["410502", "410503"])
    assert user.counties == ("410502", "410503") and user.role == "county"
    ok = users.verify(db, neo4j_settings, "wenfeng1", PASSWORD)
    assert ok.ok and ok.user == users.get_user(db, "wenfeng1")
    assert users.verify(db, neo4j_settings, "wenfeng1", PASSWORD + "x").status is LoginStatus.BAD
    assert users.verify(db, neo4j_settings, "nobody", PASSWORD).status is LoginStatus.UNKNOWN
    assert [u.username for u in users.list_users(db)] == ["wenfeng1"]


def test_password_is_never_stored_plain(db: neo4j.Driver, neo4j_settings: Settings) -> None:
    users.add_user(db, neo4j_settings, "u1", "analyst", PASSWORD)
    users.add_user(db, neo4j_settings, "u2", "analyst", PASSWORD)
    rows = access.read(db, "MATCH (u:User) RETURN properties(u) AS p ORDER BY u.username")
    props = [r["p"] for r in rows]
    for p in props:
        assert all(PASSWORD not in str(v) for v in p.values())
        assert p["pw_alg"].startswith("scrypt") and len(bytes.fromhex(p["pw_salt"])) == 16
    assert props[0]["pw_salt"] != props[1]["pw_salt"]
    assert props[0]["pw_hash"] != props[1]["pw_hash"]  # per-user salt
    assert "pw_hash" not in users.User.__dataclass_fields__


def test_bad_role_county_sector_and_duplicates(db: neo4j.Driver,
                                               neo4j_settings: Settings) -> None:
    with pytest.raises(UsageError):
        users.add_user(db, neo4j_settings, "a", "superuser", PASSWORD)
    with pytest.raises(UsageError):
        users.add_user(db, neo4j_settings, "a", "county", PASSWORD, counties=["110101"])
    with pytest.raises(UsageError):
        users.add_user(db, neo4j_settings, "a", "county", PASSWORD)  # county needs --county
    with pytest.raises(UsageError):
        users.add_user(db, neo4j_settings, "a", "sector", PASSWORD, sector="bakeries")
    with pytest.raises(UsageError):
        users.add_user(db, neo4j_settings, "a", "city", "short")
    sector = users.add_user(db, neo4j_settings, "minzheng", "sector", PASSWORD, sector="elderly")
    assert sector.sector == "养老机构"
    with pytest.raises(RejectedError):
        users.add_user(db, neo4j_settings, "minzheng", "city", PASSWORD)
    assert users.get_user(db, "minzheng") == sector  # untouched


def test_disable(db: neo4j.Driver, neo4j_settings: Settings) -> None:
    users.add_user(db, neo4j_settings, "leaver", "city", PASSWORD)
    assert users.disable_user(db, "leaver").disabled
    assert users.verify(db, neo4j_settings, "leaver", PASSWORD).status is LoginStatus.DISABLED
    with pytest.raises(RejectedError):
        users.disable_user(db, "never-existed")


def test_lockout_after_failures_then_expiry(db: neo4j.Driver, neo4j_settings: Settings) -> None:
    users.add_user(db, neo4j_settings, "target", "county", PASSWORD, counties=["410502"])
    for i in range(2):
        result = users.verify(db, neo4j_settings, "target", "guess", max_failures=3,
                              lockout_minutes=10, now=T0 + timedelta(seconds=i))
        assert result.status is LoginStatus.BAD
    third = users.verify(db, neo4j_settings, "target", "guess", max_failures=3,
                         lockout_minutes=10, now=T0 + timedelta(seconds=2))
    assert third.status is LoginStatus.LOCKED and third.locked_now
    # while locked even the right password is refused, and the message does not say why
    locked = users.verify(db, neo4j_settings, "target", PASSWORD, max_failures=3,
                          lockout_minutes=10, now=T0 + timedelta(minutes=5))
    assert locked.status is LoginStatus.LOCKED and not locked.ok
    assert locked.message == users.LoginResult(LoginStatus.BAD).message
    later = users.verify(db, neo4j_settings, "target", PASSWORD, max_failures=3,
                         lockout_minutes=10, now=T0 + timedelta(minutes=11))
    assert later.ok
    # the counter restarted: one more failure does not lock again
    again = users.verify(db, neo4j_settings, "target", "guess", max_failures=3,
                         lockout_minutes=10, now=T0 + timedelta(minutes=12))
    assert again.status is LoginStatus.BAD


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_usernames_are_plain_data(db: neo4j.Driver, neo4j_settings: Settings,
                                          name: str) -> None:
    users.add_user(db, neo4j_settings, "bystander", "city", PASSWORD)
    user = users.add_user(db, neo4j_settings, name, "analyst", PASSWORD)
    assert user.username == name
    assert users.get_user(db, name) == user
    assert users.verify(db, neo4j_settings, name, PASSWORD).ok
    assert sorted(u.username for u in users.list_users(db)) == sorted(["bystander", name])
    assert users.get_user(db, "bystander") is not None  # nothing was deleted or rewritten
    assert users.get_user(db, "bystander").role == "city"  # type: ignore[union-attr]
    event = audit.record(db, "search", user=user, target=name)
    assert audit.events(db, user=name)[0]["event_id"] == event
    assert audit.events(db, user=name)[0]["target"] == name


def test_control_characters_and_empty_names_refused(db: neo4j.Driver,
                                                    neo4j_settings: Settings) -> None:
    for bad in ("", "   ", "a\nb", "a\x00b", "x" * 200):
        with pytest.raises(UsageError):
            users.add_user(db, neo4j_settings, bad, "city", PASSWORD)


# --- the CLI, as operators run it ----------------------------------------------------------


def _cli_env(settings: Settings) -> dict[str, str]:
    if settings.neo4j_uri:
        uri, user, password = (settings.neo4j_uri, settings.neo4j_user,
                               settings.neo4j_password or "")
    else:
        from graph import server

        uri, user, password = (f"bolt://127.0.0.1:{settings.bolt_port}", "neo4j",
                               server.read_password(settings))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "RISKGRAPH_"))}
    env.update({"RISKGRAPH_HOME": str(settings.home), "RISKGRAPH_CITY": settings.city,
                "NEO4J_URI": uri, "NEO4J_USER": user, "NEO4J_PASSWORD": password,
                "NEO4J_DATABASE": settings.neo4j_database})
    if settings.hash_key:
        env["RISKGRAPH_HASH_KEY"] = settings.hash_key
    return env


ROOT = Path(__file__).resolve().parents[1]


def _riskgraph(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    # ``python -m riskgraph`` from the checkout root: this checkout's code (the venv's
    # ``riskgraph`` script may point at another checkout)
    return subprocess.run([sys.executable, "-m", "riskgraph", *args], input=stdin,
                          capture_output=True, text=True, env=_cli_env(settings), timeout=120,
                          check=False, cwd=ROOT)


def test_cli_users_add_list_disable(db: neo4j.Driver, neo4j_settings: Settings) -> None:
    ok = _riskgraph(neo4j_settings, "users", "add", "linzhou1", "--role", "county",
                    "--county", "410581", "--password-stdin", stdin=PASSWORD + "\n")
    assert ok.returncode == 0, ok.stderr
    assert users.verify(db, neo4j_settings, "linzhou1", PASSWORD).ok
    assert users.get_user(db, "linzhou1").counties == ("410581",)  # type: ignore[union-attr]
    listed = _riskgraph(neo4j_settings, "users", "list")
    assert listed.returncode == 0 and "linzhou1\tcounty\t410581" in listed.stdout
    assert PASSWORD not in listed.stdout and "pw_" not in listed.stdout
    dup = _riskgraph(neo4j_settings, "users", "add", "linzhou1", "--role", "city",
                     "--password-stdin", stdin=PASSWORD + "\n")
    assert dup.returncode == 1 and "already exists" in dup.stderr
    off = _riskgraph(neo4j_settings, "users", "disable", "linzhou1")
    assert off.returncode == 0, off.stderr
    assert users.get_user(db, "linzhou1").disabled  # type: ignore[union-attr]
    actions = {e["action"] for e in audit.events(db)}
    assert {"user_add", "user_disable"} <= actions
    assert _riskgraph(neo4j_settings, "users", "disable", "ghost").returncode == 1


@pytest.mark.parametrize("args", [
    ("--role", "superuser"),
    ("--role", "county"),                              # county without --county
    ("--role", "county", "--county", "999999"),        # not a county of the city
    ("--role", "sector", "--sector", "bakeries"),
])
def test_cli_users_add_bad_usage_exits_2(db: neo4j.Driver, neo4j_settings: Settings,
                                         args: tuple[str, ...]) -> None:
    result = _riskgraph(neo4j_settings, "users", "add", "someone", *args, "--password-stdin",
                        stdin=PASSWORD + "\n")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "error:" in result.stderr
    assert users.get_user(db, "someone") is None


def test_cli_short_password_exits_2(db: neo4j.Driver, neo4j_settings: Settings) -> None:
    result = _riskgraph(neo4j_settings, "users", "add", "someone", "--role", "city",
                        "--password-stdin", stdin="short\n")
    assert result.returncode == 2 and users.get_user(db, "someone") is None


def test_cli_prompt_with_confirmation(db: neo4j.Driver, neo4j_settings: Settings) -> None:
    mismatch = _riskgraph(neo4j_settings, "users", "add", "p1", "--role", "analyst",
                          stdin=f"{PASSWORD}\n{PASSWORD}x\n{PASSWORD}\n{PASSWORD}\n")
    assert mismatch.returncode == 0, mismatch.stderr  # typer asks again after a mismatch
    assert users.verify(db, neo4j_settings, "p1", PASSWORD).ok
    assert PASSWORD not in mismatch.stdout + mismatch.stderr


def test_cli_set_password_enable_disable(db: neo4j.Driver, neo4j_settings: Settings) -> None:
    new = PASSWORD + "-new"
    users.add_user(db, neo4j_settings, "rotator", "county", PASSWORD, counties=["410502"])
    for _ in range(5):  # locked out by failures; a new password clears the lock
        users.verify(db, neo4j_settings, "rotator", "wrong guess")
    assert users.verify(db, neo4j_settings, "rotator", PASSWORD).status is LoginStatus.LOCKED
    changed = _riskgraph(neo4j_settings, "users", "set-password", "rotator",
                         "--password-stdin", stdin=new + "\n")
    assert changed.returncode == 0, changed.stderr
    assert new not in changed.stdout + changed.stderr
    assert users.verify(db, neo4j_settings, "rotator", PASSWORD).status is LoginStatus.BAD
    assert users.verify(db, neo4j_settings, "rotator", new).ok
    prompted = _riskgraph(neo4j_settings, "users", "set-password", "rotator",
                          stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.returncode == 0, prompted.stderr
    assert users.verify(db, neo4j_settings, "rotator", PASSWORD).ok
    short = _riskgraph(neo4j_settings, "users", "set-password", "rotator", "--password-stdin",
                       stdin="short\n")
    assert short.returncode == 2 and users.verify(db, neo4j_settings, "rotator", PASSWORD).ok
    ghost = _riskgraph(neo4j_settings, "users", "set-password", "ghost", "--password-stdin",
                       stdin=new + "\n")
    assert ghost.returncode == 1 and users.get_user(db, "ghost") is None

    assert _riskgraph(neo4j_settings, "users", "disable", "rotator").returncode == 0
    assert users.verify(db, neo4j_settings, "rotator", PASSWORD).status is LoginStatus.DISABLED
    listed = _riskgraph(neo4j_settings, "users", "list")
    assert "rotator\tcounty\t410502\t\ttrue" in listed.stdout
    assert _riskgraph(neo4j_settings, "users", "enable", "rotator").returncode == 0
    assert users.verify(db, neo4j_settings, "rotator", PASSWORD).ok
    assert _riskgraph(neo4j_settings, "users", "enable", "ghost").returncode == 1
    actions = [(e["action"], e["target"]) for e in audit.events(db, newest_first=False)
               if e["target"] == "rotator"]
    assert actions == [("user_set_password", "rotator"), ("user_set_password", "rotator"),
                       ("user_disable", "rotator"), ("user_enable", "rotator")]
    assert all(e["user"].startswith("cli") for e in audit.events(db)
               if e["action"].startswith("user_"))
    assert PASSWORD not in str(audit.events(db)) and new not in str(audit.events(db))
