"""Local Neo4j lifecycle, connection errors, counts and backup/restore, on a real server."""

from __future__ import annotations

import gzip
import json
import os
import socket
import stat
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import neo4j
import pytest
from neo4j import spatial
from neo4j import time as ntime
from typer.testing import CliRunner

from graph import access, server
from graph.cli import backup, counts, db_app, restore
from graph.connection import connect, database_name, open_driver
from riskgraph.errors import ConfigError, DatabaseError, DataError, RejectedError, UsageError
from riskgraph.settings import Settings
from tests.conftest import free_port, local_test_settings

pytestmark = pytest.mark.neo4j


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


# --- lifecycle ----------------------------------------------------------------------------------


def test_start_twice_is_harmless_and_status_reports_it(local_server: Settings) -> None:
    before = server.status(local_server)
    uri1 = server.start(local_server)
    uri2 = server.start(local_server)
    after = server.status(local_server)
    assert uri1 == uri2 == f"bolt://127.0.0.1:{local_server.bolt_port}"
    assert before["pid"] == after["pid"] is not None
    assert after["running"] is True and after["ready"] is True
    assert after["version"] == "5.26.30"
    assert after["port"] == local_server.bolt_port
    assert after["data_dir"] == str(local_server.db_dir)
    assert (local_server.db_dir / "data").is_dir()


def test_python_driver_round_trip_with_generated_password(local_server: Settings) -> None:
    password = server.read_password(local_server)
    assert len(password) >= 24
    uri = server.start(local_server)
    with neo4j.GraphDatabase.driver(uri, auth=("neo4j", password)) as drv:
        records, _, _ = drv.execute_query("RETURN 41 + 1 AS answer")
        assert records[0]["answer"] == 42
        components, _, _ = drv.execute_query(
            "CALL dbms.components() YIELD name, versions, edition RETURN *")
        assert components[0]["versions"] == ["5.26.30"]
        assert components[0]["edition"] == "community"


def test_transaction_logs_are_pruned_to_two_files_by_default(local_server: Settings) -> None:
    from graph import cypher

    uri = server.start(local_server)
    with neo4j.GraphDatabase.driver(uri, auth=("neo4j", server.read_password(local_server))) as drv:
        rows = access.read(drv, cypher.server_setting(),
                           {"name": "db.tx_log.rotation.retention_policy"})
    assert rows == [{"value": "2 files"}]  # the Neo4j default keeps 2 days of logs


def test_tx_log_retention_reaches_the_server_command_and_is_checked() -> None:
    cmd = server._java_command(
        Settings(tx_log_retention="1G size"), "cp", 7000)
    assert cmd[cmd.index("--tx-log-retention") + 1] == "1G size"
    with pytest.raises(ConfigError, match="TX_LOG_RETENTION"):
        server._java_command(Settings(tx_log_retention="forever"), "cp", 7000)


def test_password_file_is_private(local_server: Settings) -> None:
    path = server.password_file(local_server)
    assert path == local_server.home / "secrets" / "neo4j_password"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_log_and_pid_file_live_under_home(local_server: Settings) -> None:
    pid = server.status(local_server)["pid"]
    assert server.pid_file(local_server).read_text().split()[0] == str(pid)
    assert "READY bolt://127.0.0.1:" in server.log_file(local_server).read_text()


def test_stale_pid_file_is_detected_and_cleaned(tmp_path: Path, capsys) -> None:
    settings = local_test_settings(tmp_path / "home", free_port())
    settings.db_dir.mkdir(parents=True)
    server.pid_file(settings).write_text(f"{_dead_pid()}\n{settings.bolt_port}\n")
    assert server.status(settings)["running"] is False
    assert server.stop(settings) is False
    assert not server.pid_file(settings).exists()
    assert "stale pid file" in capsys.readouterr().err
    # a live process that is not our server (pid reused) is stale too
    server.pid_file(settings).write_text(f"{os.getpid()}\n{settings.bolt_port}\n")
    assert server.status(settings)["running"] is False
    assert server.stop(settings) is False
    assert not server.pid_file(settings).exists()


def test_start_cleans_stale_pid_then_reports_taken_port_quickly(tmp_path: Path, capsys) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        settings = local_test_settings(tmp_path / "home", port)
        settings.db_dir.mkdir(parents=True)
        server.pid_file(settings).write_text(f"{_dead_pid()}\n{port}\n")
        started = time.monotonic()
        with pytest.raises(DatabaseError) as info:
            server.start(settings)
        assert time.monotonic() - started < 5
    assert f"port {port}" in info.value.message and "already in use" in info.value.message
    assert "--port" in (info.value.hint or "")
    assert not server.pid_file(settings).exists()
    assert "stale pid file" in capsys.readouterr().err


def test_start_on_the_port_of_another_server_fails_clearly(local_server: Settings,
                                                           tmp_path: Path) -> None:
    other = local_test_settings(tmp_path / "other", local_server.bolt_port)
    started = time.monotonic()
    with pytest.raises(DatabaseError, match="already in use"):
        server.start(other)
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_private_server_full_lifecycle(tmp_path: Path) -> None:
    """First start (password set), stop (clean), stale pid + restart (data and password kept).

    Uses its own home and port so the shared session server is never stopped under others.
    """
    settings = replace(local_test_settings(tmp_path / "home", free_port()),
                       heap="512m", pagecache="128m")
    started = time.monotonic()
    uri = server.start(settings)
    first_start = time.monotonic() - started
    try:
        drv = connect(settings)
        try:
            access.write(drv, "CREATE (:ServerTestMarker {k: 'restart'})")
        finally:
            drv.close()
        password = server.read_password(settings)
        started = time.monotonic()
        assert server.stop(settings) is True
        stop_time = time.monotonic() - started
        assert server.status(settings)["running"] is False
        assert not server.pid_file(settings).exists()
        assert "STOPPED" in server.log_file(settings).read_text()
        assert server.stop(settings) is False

        server.pid_file(settings).write_text(f"{_dead_pid()}\n{settings.bolt_port}\n")
        started = time.monotonic()
        assert server.start(settings) == uri
        restart = time.monotonic() - started
        print(f"first start {first_start:.1f}s, stop {stop_time:.1f}s, restart {restart:.1f}s")
        assert server.read_password(settings) == password
        assert "PASSWORD unchanged" in server.log_file(settings).read_text()
        drv = connect(settings)
        try:
            found = access.read(drv, "MATCH (m:ServerTestMarker) RETURN count(m) AS n")[0]["n"]
        finally:
            drv.close()
        assert found == 1
    finally:
        server.stop(settings)


# --- connection errors ----------------------------------------------------------------------


def test_wrong_password_is_a_config_error(local_server: Settings) -> None:
    remote = Settings(home=local_server.home, neo4j_uri=f"bolt://127.0.0.1:{local_server.bolt_port}",
                      neo4j_password="not-the-password")
    with pytest.raises(ConfigError) as info:
        connect(remote)
    assert info.value.message.startswith("Neo4j refused the credentials")
    assert "NEO4J_PASSWORD" in (info.value.hint or "")
    assert info.value.exit_code == 2


@pytest.mark.parametrize("scheme", ["bolt", "neo4j"])
def test_unreachable_uri_is_a_database_error(scheme: str, tmp_path: Path) -> None:
    remote = Settings(home=tmp_path, neo4j_uri=f"{scheme}://127.0.0.1:{free_port()}",
                      neo4j_password="whatever")
    started = time.monotonic()
    with pytest.raises(DatabaseError) as info:
        connect(remote)
    assert time.monotonic() - started < 30
    assert "cannot reach Neo4j" in info.value.message
    assert info.value.hint and info.value.exit_code == 3
    assert not (tmp_path / "neo4j").exists()  # a remote URI never starts the local server


def test_remote_uri_without_password_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="NEO4J_PASSWORD"):
        connect(Settings(home=tmp_path, neo4j_uri="bolt://127.0.0.1:1"))


def test_bad_uri_scheme_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a usable Neo4j URI"):
        open_driver("http://127.0.0.1:7474", "neo4j", "x")


def test_lifecycle_refuses_when_neo4j_uri_is_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="NEO4J_URI is set"):
        server.start(Settings(home=tmp_path, neo4j_uri="bolt://example:7687"))


# --- CLI: status, counts ------------------------------------------------------------------


def test_status_command_exit_codes(neo4j_settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(db_app, ["status", "--json"], obj=neo4j_settings)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["running"] is True
    stopped = local_test_settings(tmp_path / "nothing", free_port())
    result = runner.invoke(db_app, ["status"], obj=stopped)
    assert result.exit_code == 3
    assert result.stdout.startswith("not running")


def _sample(drv: neo4j.Driver, database: str) -> None:
    access.write(drv, """
        CREATE (a:Enterprise {uscc: 'U1', name: '安阳某某投资有限公司', founded: date('2019-05-06'),
                              seen: datetime('2024-01-02T03:04:05.123456789+08:00'),
                              at: point({longitude: 114.39, latitude: 36.1}),
                              tags: ['a', 'b'], capital: 1.5e7, blob: $blob})
        CREATE (b:Enterprise:Flagged {uscc: 'U2', n: 7})
        CREATE (p:Person {pid: 'P1'})
        CREATE (p)-[:OFFICER_OF {role: '法定代表人', since: localdatetime('2020-01-01T08:00')}]->(a)
        CREATE (a)-[:INVESTS {share: 0.51, term: duration('P1Y2M3DT4H')}]->(b)
        CREATE (a)-[:INVESTS {share: 0.1}]->(b)
        CREATE (:Empty)
    """, {"blob": b"\x00\x01\xff"}, database=database)


def test_counts_json_shape(neo4j_settings: Settings, clean_db: neo4j.Driver) -> None:
    _sample(clean_db, database_name(neo4j_settings))
    result = CliRunner().invoke(db_app, ["counts"], obj=neo4j_settings)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == {
        "nodes": {"Empty": 1, "Enterprise": 2, "Flagged": 1, "Person": 1},
        "relationships": {"INVESTS": 2, "OFFICER_OF": 1},
    }
    assert counts(clean_db, database_name(neo4j_settings)) == data


# --- backup / restore ---------------------------------------------------------------------


def test_backup_restore_round_trip(neo4j_settings: Settings, clean_db: neo4j.Driver,
                                   tmp_path: Path) -> None:
    db = database_name(neo4j_settings)
    _sample(clean_db, db)
    before = counts(clean_db, db)
    out = tmp_path / "graph.jsonl.gz"
    runner = CliRunner()
    result = runner.invoke(db_app, ["backup", "--out", str(out)], obj=neo4j_settings)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["nodes"] == 4
    with gzip.open(out, "rt") as fh:
        lines = [json.loads(line) for line in fh]
    assert lines[0]["format"] == "riskgraph-backup" and lines[-1]["t"] == "end"

    # refuses a non-empty database
    with pytest.raises(UsageError, match="not empty"):
        restore(clean_db, out, database=db)

    access.write(clean_db, "MATCH (n) DETACH DELETE n", database=db)
    result = runner.invoke(db_app, ["restore", str(out)], obj=neo4j_settings)
    assert result.exit_code == 0, result.output
    assert counts(clean_db, db) == before

    row = access.read(clean_db, """
        MATCH (p:Person {pid: 'P1'})-[o:OFFICER_OF]->(a:Enterprise {uscc: 'U1'})
              -[i:INVESTS {share: 0.51}]->(b:Enterprise:Flagged {uscc: 'U2'})
        RETURN properties(a) AS a, properties(o) AS o, properties(i) AS i, b.n AS n""",
        database=db)
    assert len(row) == 1
    a, o, i = row[0]["a"], row[0]["o"], row[0]["i"]
    assert a["name"] == "安阳某某投资有限公司"
    assert a["founded"] == ntime.Date(2019, 5, 6)
    assert a["seen"].iso_format() == "2024-01-02T03:04:05.123456789+08:00"
    assert isinstance(a["at"], spatial.WGS84Point) and tuple(a["at"]) == (114.39, 36.1)
    assert a["tags"] == ["a", "b"] and a["capital"] == 1.5e7 and a["blob"] == b"\x00\x01\xff"
    assert o["role"] == "法定代表人"
    assert o["since"] == ntime.DateTime(2020, 1, 1, 8, 0)
    assert i["term"] == ntime.Duration(years=1, months=2, days=3, hours=4)
    assert row[0]["n"] == 7

    # --replace restores over a changed graph; a second backup equals the first
    access.write(clean_db, "CREATE (:Stray)", database=db)
    result = runner.invoke(db_app, ["restore", str(out), "--replace"], obj=neo4j_settings)
    assert result.exit_code == 0, result.output
    assert counts(clean_db, db) == before
    again = tmp_path / "again.jsonl.gz"
    backup(clean_db, again, database=db)
    with gzip.open(again, "rt") as fh:
        second = [json.loads(line) for line in fh]
    strip = ("id", "src", "dst", "created")
    assert sorted(json.dumps({k: v for k, v in x.items() if k not in strip}, sort_keys=True)
                  for x in second) == \
        sorted(json.dumps({k: v for k, v in x.items() if k not in strip}, sort_keys=True)
               for x in lines)


def test_restore_checks_the_hash_key(neo4j_settings: Settings, clean_db: neo4j.Driver,
                                     tmp_path: Path) -> None:
    """The key is not in the backup (by design): a restore under another key is done but
    exits 1 naming both fingerprints and the remedy; under the right key it exits 0."""
    from riskgraph.identifiers import key_fingerprint
    from security import users

    db = database_name(neo4j_settings)
    one = replace(neo4j_settings, hash_key="key-one")
    users.add_user(clean_db, one, "city1", "city", "correct horse battery staple")
    out = tmp_path / "graph.jsonl.gz"
    runner = CliRunner()
    assert runner.invoke(db_app, ["backup", "--out", str(out)], obj=one).exit_code == 0
    before = counts(clean_db, db)
    result = runner.invoke(db_app, ["restore", str(out), "--replace"],
                           obj=replace(neo4j_settings, hash_key="key-two"))
    assert result.exit_code == 1
    assert isinstance(result.exception, RejectedError)
    assert key_fingerprint(b"key-one") in result.exception.message
    assert "RISKGRAPH_HASH_KEY" in (result.exception.hint or "")
    assert counts(clean_db, db) == before  # the restore itself is done
    result = runner.invoke(db_app, ["restore", str(out), "--replace"], obj=one)
    assert result.exit_code == 0, result.output
    assert users.verify(clean_db, one, "city1", "correct horse battery staple").ok


def test_restore_never_runs_beside_a_refresh(neo4j_settings: Settings, clean_db: neo4j.Driver,
                                             tmp_path: Path) -> None:
    from riskgraph.runs import RefreshBusyError, RefreshLock, lock_path

    db = database_name(neo4j_settings)
    _sample(clean_db, db)
    out = tmp_path / "graph.jsonl.gz"
    backup(clean_db, out, database=db)
    access.write(clean_db, "CREATE (:Stray)", database=db)
    settings = replace(neo4j_settings, home=tmp_path / "home")
    held = RefreshLock(lock_path(settings)).acquire(run_id="refresh-20261207T000000-abcdef")
    try:
        result = CliRunner().invoke(db_app, ["restore", str(out), "--replace"], obj=settings)
    finally:
        held.release()
    assert isinstance(result.exception, RefreshBusyError)
    assert result.exception.exit_code == 3  # the CLI edge exits with it
    assert "this restore did nothing" in result.exception.message
    assert access.read(clean_db, "MATCH (s:Stray) RETURN count(s) AS n",
                       database=db)[0]["n"] == 1  # the graph is untouched


def test_backup_schema_round_trip(neo4j_settings: Settings, clean_db: neo4j.Driver,
                                  tmp_path: Path) -> None:
    db = database_name(neo4j_settings)
    access.write(clean_db, "CREATE CONSTRAINT server_test_uniq IF NOT EXISTS "
                           "FOR (n:ServerTestThing) REQUIRE n.k IS UNIQUE", database=db)
    try:
        access.write(clean_db, "CREATE (:ServerTestThing {k: 1})", database=db)
        out = tmp_path / "schema.jsonl.gz"
        assert backup(clean_db, out, database=db)["schema"] >= 1
        access.write(clean_db, "DROP CONSTRAINT server_test_uniq", database=db)
        access.write(clean_db, "MATCH (n) DETACH DELETE n", database=db)
        restore(clean_db, out, database=db)
        names = [r["name"] for r in access.read(clean_db, "SHOW CONSTRAINTS YIELD name",
                                                database=db)]
        assert "server_test_uniq" in names
    finally:
        access.write(clean_db, "DROP CONSTRAINT server_test_uniq IF EXISTS", database=db)


def test_truncated_or_foreign_backup_is_rejected(clean_db: neo4j.Driver, tmp_path: Path) -> None:
    truncated = tmp_path / "t.jsonl.gz"
    with gzip.open(truncated, "wt") as fh:
        fh.write(json.dumps({"t": "header", "format": "riskgraph-backup", "version": 1}) + "\n")
        fh.write(json.dumps({"t": "node", "id": "x", "labels": ["A"], "props": {}}) + "\n")
    with pytest.raises(DataError, match="truncated"):
        restore(clean_db, truncated)
    foreign = tmp_path / "f.jsonl.gz"
    foreign.write_bytes(b"not gzip at all")
    with pytest.raises(DataError):
        restore(clean_db, foreign)
    evil = tmp_path / "e.jsonl.gz"
    with gzip.open(evil, "wt") as fh:
        fh.write(json.dumps({"t": "header", "format": "riskgraph-backup", "version": 1}) + "\n")
        fh.write(json.dumps({"t": "schema", "name": "x", "statement": "MATCH (n) DELETE n"}) + "\n")
        fh.write(json.dumps({"t": "end", "nodes": 0, "relationships": 0}) + "\n")
    with pytest.raises(DataError, match="not a schema statement"):
        restore(clean_db, evil)
    assert access.read(clean_db, "MATCH (n) RETURN count(n) AS n")[0]["n"] == 0
