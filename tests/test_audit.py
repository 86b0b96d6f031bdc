"""The audit trail: written through one function, append-only, exported with neutralised cells;
the only Cypher naming AuditEvent is CREATE and MATCH … RETURN (scan of graph/cypher.py)."""

from __future__ import annotations

import ast
import csv
import importlib.util
import inspect
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import neo4j
import pytest

from graph import cypher
from graph.schema import apply_schema
from riskgraph.errors import ConfigError, UsageError
from riskgraph.settings import Settings
from security import audit, auth, users
from security.users import User

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
WRITE_WORDS = re.compile(r"\b(SET|DELETE|DETACH|REMOVE|MERGE|FOREACH|LOAD\s+CSV)\b", re.I)


def _string_constants(node: ast.AST) -> str:
    """Every string literal (incl. f-string parts) inside a function, joined."""
    parts = [n.value for n in ast.walk(node)
             if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return " ".join(parts)


def test_only_create_and_match_return_touch_audit_events() -> None:
    tree = ast.parse(inspect.getsource(cypher))
    touching = {}
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        text = _string_constants(fn)
        if "AuditEvent" in text:
            touching[fn.name] = text
    assert set(touching) == {"security_audit_create", "security_audit_list"}
    for name, text in touching.items():
        query = text.split('"""')[-1] if '"""' in text else text
        body = " ".join(part for part in query.split() if part)
        body = re.sub(r"^.*?\b(CREATE|MATCH)\b", r"\1", body, count=1, flags=re.S)
        assert not WRITE_WORDS.search(body.replace("DESC", "").replace("ASC", "")), name
        assert re.search(r"\bRETURN\b", body), name
        assert body.startswith(("CREATE (e:AuditEvent", "MATCH (e:AuditEvent")), name
    # and the real strings agree
    assert cypher.security_audit_create().startswith("CREATE (e:AuditEvent {")
    for newest in (True, False):
        query = cypher.security_audit_list(newest)
        assert query.startswith("MATCH (e:AuditEvent)") and " RETURN " in query
        assert not WRITE_WORDS.search(query)
    # every non-comment line of the module naming AuditEvent lies inside those two builders
    source = inspect.getsource(cypher)
    inside = set()
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in touching):
        inside.update(range(fn.lineno, (fn.end_lineno or fn.lineno) + 1))
    for number, line in enumerate(source.splitlines(), start=1):
        if "AuditEvent" in line and not line.lstrip().startswith("#"):
            assert number in inside, f"graph/cypher.py:{number} names AuditEvent"


def test_no_other_package_writes_audit_events() -> None:
    root = Path(__file__).resolve().parents[1]
    offenders = []
    for path in root.glob("*/**/*.py"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith((".venv/", "tests/", "security/", "node_modules/")) or \
                rel in ("graph/model.py", "graph/cypher.py"):
            continue
        if "AuditEvent" in path.read_text(encoding="utf-8", errors="replace"):
            offenders.append(rel)
    assert offenders == []


def test_unknown_action_refused() -> None:
    with pytest.raises(UsageError):
        audit.record(None, "delete_everything", user="x")  # type: ignore[arg-type]


@pytest.mark.neo4j
def test_record_read_export(clean_db: neo4j.Driver, tmp_path: Path) -> None:
    user = User("wf", "county", ("410502",))
    hostile = "=HYPERLINK(\"http://evil\",\"x\")"
    cypherish = "x'}) MATCH (n) DETACH DELETE n //"
    audit.record(clean_db, "search", user=user, target=cypherish, now=T0)
    audit.record(clean_db, "view_enterprise", user=user, target="91410502MA0000001X",
                 detail={"page": "profile", "html": "<script>alert(1)</script>"},
                 now=T0 + timedelta(seconds=1))
    audit.record(clean_db, "export", user=user, target=hostile, detail="+cmd|' /C calc'!A0",
                 now=T0 + timedelta(seconds=2))
    audit.record(clean_db, "login_failed", user="@evil", role="", target="@evil",
                 now=T0 + timedelta(seconds=3))
    rows = audit.events(clean_db)
    assert [r["action"] for r in rows] == ["login_failed", "export", "view_enterprise", "search"]
    assert rows[-1]["target"] == cypherish and rows[-1]["role"] == "county"
    assert "<script>alert(1)</script>" in rows[2]["detail"]  # stored verbatim, as data
    assert [r["action"] for r in audit.events(clean_db, user="wf", action="search")] == ["search"]
    out = tmp_path / "audit.csv"
    assert audit.export_audit(clean_db, out) == 4
    with out.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == list(audit.FIELDS)
    cells = [c for row in table[1:] for c in row]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert "'" + hostile in cells and "'@evil" in cells
    assert [row[4] for row in table[1:]] == ["search", "view_enterprise", "export",
                                              "login_failed"]


@pytest.mark.neo4j
def test_audit_rows_are_not_editable_through_the_product(clean_db: neo4j.Driver) -> None:
    event = audit.record(clean_db, "search", user="u", role="city", target="鑫盛", now=T0)
    before = audit.events(clean_db)
    # the same event id cannot be written twice (a fresh id per call, no MERGE)
    again = audit.record(clean_db, "search", user="u", role="city", target="鑫盛", now=T0)
    assert again != event
    after = audit.events(clean_db)
    assert len(after) == 2 and before[0] in after
    # the module offers no way to change or remove an event
    public = [n for n in dir(audit) if not n.startswith("_")]
    assert not [n for n in public if re.search(r"update|delete|remove|edit|clear", n, re.I)]
    security_builders = [n for n in dir(cypher) if n.startswith("security_audit")]
    assert sorted(security_builders) == ["security_audit_create", "security_audit_list"]


@pytest.mark.neo4j
def test_sign_in_is_audited(clean_db: neo4j.Driver, neo4j_settings: Settings) -> None:
    apply_schema(clean_db)
    users.add_user(clean_db, neo4j_settings, "<b>bg</b>", "county", "a long passphrase",
                   counties=["410503"])
    policy = auth.AuthSettings(max_failures=2, lockout_minutes=5)
    assert not auth.sign_in(clean_db, neo4j_settings, policy, "<b>bg</b>", "wrong", now=T0).ok
    locked = auth.sign_in(clean_db, neo4j_settings, policy, "<b>bg</b>", "wrong",
                          now=T0 + timedelta(seconds=1))
    assert locked.locked_now
    assert not auth.sign_in(clean_db, neo4j_settings, policy, "nobody", "x",
                            now=T0 + timedelta(seconds=2)).ok
    ok = auth.sign_in(clean_db, neo4j_settings, policy, "<b>bg</b>", "a long passphrase",
                      now=T0 + timedelta(minutes=6))
    assert ok.ok
    events = audit.events(clean_db, newest_first=False)
    assert [e["action"] for e in events] == ["login_failed"] * 3 + ["login"]
    assert [e["user"] for e in events] == ["<b>bg</b>", "<b>bg</b>", "nobody", "<b>bg</b>"]
    assert '"reason": "locked"' in events[1]["detail"]
    assert all("a long passphrase" not in str(e) and "wrong" not in str(e) for e in events)


def test_sign_in_under_another_hash_key_is_refused_without_counting(
        clean_db: neo4j.Driver, neo4j_settings: Settings) -> None:
    """After a restore without the key file every password would fail: sign-in stops with
    the key error instead, and no failure is counted (no account is locked by it)."""
    from dataclasses import replace

    from graph import keycheck

    apply_schema(clean_db)
    one = replace(neo4j_settings, hash_key="key-one")
    users.add_user(clean_db, one, "anyang1", "city", "a long passphrase")
    policy = auth.AuthSettings(max_failures=1, lockout_minutes=5)
    with pytest.raises(keycheck.KeyMismatchError):
        auth.sign_in(clean_db, replace(neo4j_settings, hash_key="key-two"), policy, "anyang1",
                     "a long passphrase", now=T0)
    assert audit.events(clean_db) == []
    assert auth.sign_in(clean_db, one, policy, "anyang1", "a long passphrase", now=T0).ok


def test_auth_settings() -> None:
    assert auth.load_auth_settings({}).mode == "local"
    custom = auth.load_auth_settings({"RISKGRAPH_AUTH": "OIDC",
                                      "RISKGRAPH_AUTH_MAX_FAILURES": "3",
                                      "RISKGRAPH_AUTH_LOCKOUT_MINUTES": "30"},
                                     oidc_available=lambda: True)
    assert (custom.mode, custom.max_failures, custom.lockout_minutes) == ("oidc", 3, 30.0)
    for bad in ({"RISKGRAPH_AUTH": "ldap"}, {"RISKGRAPH_AUTH_MAX_FAILURES": "0"},
                {"RISKGRAPH_AUTH_LOCKOUT_MINUTES": "soon"}):
        with pytest.raises(UsageError):
            auth.load_auth_settings(bad)


def test_oidc_without_authlib_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Authlib"):
        auth.load_auth_settings({"RISKGRAPH_AUTH": "oidc"}, oidc_available=lambda: False)
    assert auth.load_auth_settings({"RISKGRAPH_AUTH": "local"},
                                   oidc_available=lambda: False).mode == "local"
    # the real check follows this environment: oidc loads exactly when Authlib is importable
    installed = importlib.util.find_spec("authlib") is not None
    assert auth.authlib_installed() is installed
    if installed:
        assert auth.load_auth_settings({"RISKGRAPH_AUTH": "oidc"}).mode == "oidc"
    else:
        with pytest.raises(ConfigError):
            auth.load_auth_settings({"RISKGRAPH_AUTH": "oidc"})


def test_serve_checks_auth_settings_first(tmp_path: Path) -> None:
    """``riskgraph serve`` checks the sign-in settings (the same ``load_auth_settings``)
    before starting Streamlit: a bad setting exits 2 with the message, nothing is served."""
    env_mode = "oidc" if importlib.util.find_spec("authlib") is None else "ldap"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "RISKGRAPH_"))}
    env.update({"RISKGRAPH_HOME": str(tmp_path), "RISKGRAPH_AUTH": env_mode})
    result = subprocess.run([sys.executable, "-m", "riskgraph", "serve", "--port", "8629"],
                            capture_output=True, text=True, env=env, timeout=60, check=False,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 2 and "RISKGRAPH_AUTH" in result.stderr
    assert "riskgraph app on" not in result.stdout


@pytest.mark.neo4j
def test_oidc_identity_maps_to_local_account(clean_db: neo4j.Driver,
                                             neo4j_settings: Settings) -> None:
    apply_schema(clean_db)
    users.add_user(clean_db, neo4j_settings, "lz-office", "county", "a long passphrase",
                   counties=["410581"], email="LZ@example.gov.cn")
    users.add_user(clean_db, neo4j_settings, "analyst7", "analyst", "a long passphrase")
    by_mail = auth.resolve_oidc_identity(clean_db, {"email": "lz@example.gov.cn"})
    assert by_mail is not None and by_mail.username == "lz-office"
    by_name = auth.resolve_oidc_identity(clean_db, {"preferred_username": "analyst7"})
    assert by_name is not None and by_name.role == "analyst"
    assert auth.resolve_oidc_identity(clean_db, {"email": "stranger@example.com"}) is None
    users.disable_user(clean_db, "analyst7")
    assert auth.resolve_oidc_identity(clean_db, {"preferred_username": "analyst7"}) is None
