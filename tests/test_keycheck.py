"""The hash key check (graph.keycheck) against the real test Neo4j: a graph is never written
with a hash key other than the one that made its person keys and passwords."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import neo4j
import pytest

from graph import access, cypher, keycheck
from ingest.pipeline import ingest_inbox
from riskgraph.identifiers import key_fingerprint
from riskgraph.settings import Settings
from security import users
from tests.ingest_fixtures import small_inbox

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"


def _settings(neo4j_settings: Settings, tmp_path: Path, key: str) -> Settings:
    return replace(neo4j_settings, home=tmp_path / f"home-{key}", hash_key=key)


def _count(driver: neo4j.Driver, settings: Settings) -> int:
    return int(access.read(driver, cypher.count_all_nodes(),
                           database=settings.neo4j_database)[0]["n"])


def test_fingerprints_tell_keys_apart_and_hide_them() -> None:
    a, b = key_fingerprint(b"key-a"), key_fingerprint(b"key-b")
    assert a == key_fingerprint(b"key-a") and a != b
    assert len(a) == 16 and "key-a" not in a


def test_ingest_records_the_key(clean_db: neo4j.Driver, neo4j_settings: Settings,
                                tmp_path: Path) -> None:
    first = _settings(neo4j_settings, tmp_path, "key-one")
    small_inbox(tmp_path / "inbox")
    assert keycheck.recorded(clean_db, first.neo4j_database) is None
    ingest_inbox(clean_db, first, tmp_path / "inbox")
    assert keycheck.recorded(clean_db, first.neo4j_database) == key_fingerprint(b"key-one")
    assert keycheck.verify(clean_db, b"key-one", first.neo4j_database) is True


def test_ingest_with_another_key_stops_before_writing(
        clean_db: neo4j.Driver, neo4j_settings: Settings, tmp_path: Path) -> None:
    first = _settings(neo4j_settings, tmp_path, "key-one")
    users.add_user(clean_db, first, "city1", "city", PASSWORD)  # records key-one
    small_inbox(tmp_path / "inbox")
    # another key (a restored graph on a new machine, a lost key file): exit 2, nothing
    # written, the delivery still to load
    other = _settings(neo4j_settings, tmp_path, "key-two")
    before = _count(clean_db, other)
    with pytest.raises(keycheck.KeyMismatchError) as caught:
        ingest_inbox(clean_db, other, tmp_path / "inbox")
    assert caught.value.exit_code == 2
    assert key_fingerprint(b"key-one") in caught.value.message
    assert key_fingerprint(b"key-two") in caught.value.message
    assert _count(clean_db, other) == before
    report = ingest_inbox(clean_db, first, tmp_path / "inbox")  # the right key loads it
    assert report.files and all(f.status == "loaded" for f in report.files)


def test_an_ingest_that_loads_nothing_records_nothing(
        clean_db: neo4j.Driver, neo4j_settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    ingest_inbox(clean_db, _settings(neo4j_settings, tmp_path, "key-one"), tmp_path / "empty")
    assert _count(clean_db, neo4j_settings) == 0


def test_accounts_are_only_stored_under_the_graphs_key(
        clean_db: neo4j.Driver, neo4j_settings: Settings, tmp_path: Path) -> None:
    first = _settings(neo4j_settings, tmp_path, "key-one")
    users.add_user(clean_db, first, "city1", "city", PASSWORD)
    assert keycheck.recorded(clean_db) == key_fingerprint(b"key-one")
    other = _settings(neo4j_settings, tmp_path, "key-two")
    with pytest.raises(keycheck.KeyMismatchError):
        users.add_user(clean_db, other, "city2", "city", PASSWORD)
    with pytest.raises(keycheck.KeyMismatchError):
        users.set_password(clean_db, other, "city1", PASSWORD + "!")
    assert users.get_user(clean_db, "city2") is None
    assert users.verify(clean_db, first, "city1", PASSWORD).ok  # the password is untouched


def test_cli_ingest_with_another_key_exits_2_with_the_remedy(
        clean_db: neo4j.Driver, neo4j_settings: Settings, tmp_path: Path) -> None:
    first = _settings(neo4j_settings, tmp_path, "key-one")
    users.add_user(clean_db, first, "city1", "city", PASSWORD)
    inbox = tmp_path / "inbox"
    small_inbox(inbox)
    from tests.cli_env import cli_env

    env = cli_env(neo4j_settings, tmp_path / "home-cli")
    # no RISKGRAPH_HASH_KEY: a fresh home makes its own key file, which is not the graph's
    done = subprocess.run([sys.executable, "-m", "riskgraph", "ingest", str(inbox)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
                          check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "hash key" in done.stderr and "RISKGRAPH_HASH_KEY" in done.stderr
    assert access.read(clean_db, "MATCH (e:Enterprise) RETURN count(e) AS n",
                       database=neo4j_settings.neo4j_database)[0]["n"] == 0
