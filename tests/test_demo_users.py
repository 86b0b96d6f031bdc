"""``python -m security.demo_users`` (run by ``make demo``): demo accounts created once, with
their generated passwords in a 0600 file under RISKGRAPH_HOME/secrets; real Neo4j."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from riskgraph.settings import Settings
from security import audit, users
from security.demo_users import demo_file, ensure_demo_users
from tests.test_refresh_ledger import settings_for

pytestmark = pytest.mark.neo4j


def test_demo_users_once(clean_db, neo4j_settings: Settings,  # noqa: ANN001
                         tmp_path: Path) -> None:
    settings = settings_for(neo4j_settings, tmp_path / "home")
    first = ensure_demo_users(clean_db, settings)
    assert [(a.username, a.role) for a in first] == [
        ("demo-city", "city"), ("demo-county", "county"), ("demo-admin", "admin")]
    assert all(a.password and len(a.password) >= 10 for a in first)
    assert first[1].counties == ("410502",)
    path = demo_file(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    for account in first:
        assert f"{account.username}\t" in text and str(account.password) in text
        assert users.verify(clean_db, settings, account.username, str(account.password)).ok
    assert len(audit.events(clean_db, action="user_add")) == 3
    second = ensure_demo_users(clean_db, settings)  # existing accounts are left alone
    assert all(a.password is None for a in second)
    assert path.read_text(encoding="utf-8") == text
    assert users.verify(clean_db, settings, "demo-city", str(first[0].password)).ok
