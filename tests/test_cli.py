"""Exit codes and one-line errors at the CLI edge (run as a real subprocess)."""

import os
import subprocess
import sys
from pathlib import Path

RG = [sys.executable, "-m", "riskgraph.cli"]


def run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "RISKGRAPH_"))}
    full.update({"RISKGRAPH_HOME": str(home), **env})
    return subprocess.run(RG + args, capture_output=True, text=True, env=full, timeout=120)


def test_unknown_command_and_missing_option_are_usage_errors(tmp_path: Path) -> None:
    assert run(["no-such-command"], tmp_path).returncode == 2
    assert run(["demo", "generate"], tmp_path).returncode == 2


def test_bad_setting_gives_one_line_and_hint(tmp_path: Path) -> None:
    result = run(["db", "status"], tmp_path, RISKGRAPH_CITY="4105")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: RISKGRAPH_CITY") and lines[1].startswith("hint:")
    assert "Traceback" not in result.stderr


def test_status_of_a_stopped_server_is_not_success(tmp_path: Path) -> None:
    result = run(["db", "status"], tmp_path)
    assert result.returncode == 3


def test_unreachable_uri_is_a_clear_failure(tmp_path: Path) -> None:
    result = run(["db", "counts"], tmp_path, NEO4J_URI="bolt://127.0.0.1:9",
                 NEO4J_PASSWORD="x")
    assert result.returncode == 3
    assert result.stderr.startswith("error:") and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_java_is_reported_with_what_to_do(tmp_path: Path) -> None:
    result = run(["db", "start"], tmp_path, PATH="/nonexistent")
    assert result.returncode == 2
    assert "java" in result.stderr.lower() and "hint:" in result.stderr


def test_bad_ledger_level_stops_refresh_before_anything_runs(tmp_path: Path) -> None:
    """RISKGRAPH_LEDGER_LEVEL is checked when the settings load (exit 2), not in the refresh's
    ledger stage after ingest and scoring."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    result = run(["refresh", "--inbox", str(inbox)], tmp_path / "home",
                 RISKGRAPH_LEDGER_LEVEL="purple", NEO4J_URI="bolt://127.0.0.1:9",
                 NEO4J_PASSWORD="x")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: RISKGRAPH_LEDGER_LEVEL") and "hint:" in result.stderr
    assert not (tmp_path / "home" / "runs").exists()  # no run was started


# A server that is certainly not there: a command that connects before checking its path
# argument fails with 3 ("cannot reach Neo4j") instead of 2.
NO_SERVER = {"NEO4J_URI": "bolt://127.0.0.1:9", "NEO4J_PASSWORD": "x"}


def _usage_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "hint:" in result.stderr
    assert "cannot reach" not in result.stderr and "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def test_missing_path_arguments_are_usage_errors_before_connecting(tmp_path: Path) -> None:
    home = tmp_path / "home"
    missing = tmp_path / "nonexistent"
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("x", encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    _usage_error(run(["ingest", str(missing)], home, **NO_SERVER), "inbox", str(missing),
                 "does not exist")
    _usage_error(run(["ingest", str(a_file)], home, **NO_SERVER), "inbox", "not a folder")
    _usage_error(run(["eval", "--truth", str(missing)], home, **NO_SERVER), "truth",
                 str(missing))
    _usage_error(run(["eval", "--truth", str(empty)], home, **NO_SERVER), "entities.csv")
    _usage_error(run(["db", "restore", str(missing)], home, **NO_SERVER), "backup file",
                 str(missing), "does not exist")
    _usage_error(run(["db", "restore", str(empty)], home, **NO_SERVER), "not a file")
    _usage_error(run(["outcomes", "import-truth", str(missing)], home, **NO_SERVER), "truth",
                 str(missing))
    _usage_error(run(["outcomes", "import-truth", str(empty)], home, **NO_SERVER),
                 "entities.csv")
    assert not (home / "runs").exists()


def test_server_and_sign_in_settings_stop_every_command_before_anything_runs(
        tmp_path: Path) -> None:
    """RISKGRAPH_NEO4J_HEAP/PAGECACHE/TX_LOG_RETENTION and RISKGRAPH_AUTH_* are checked when
    the settings load (exit 2), not only when the local server or the app starts."""
    home = tmp_path / "home"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    demo = tmp_path / "demo"
    cases = [
        (["db", "status"], {"RISKGRAPH_NEO4J_TX_LOG_RETENTION": "forever"}),
        (["ingest", str(inbox)], {"RISKGRAPH_NEO4J_HEAP": "lots", **NO_SERVER}),
        (["score"], {"RISKGRAPH_NEO4J_PAGECACHE": "2gb", **NO_SERVER}),
        (["export", "scores", "--out", str(tmp_path / "s.csv")],
         {"RISKGRAPH_AUTH": "ldap", **NO_SERVER}),
        (["demo", "generate", "--out", str(demo), "--city", "410500", "--scale", "0.01"],
         {"RISKGRAPH_AUTH_MAX_FAILURES": "0"}),
    ]
    for args, env in cases:
        result = run(args, home, **env)
        name, value = next(iter(env.items()))
        _usage_error(result, f"error: {name}={value!r}")
    assert not (home / "runs").exists() and not demo.exists()
    assert not (tmp_path / "s.csv").exists()


def test_outputs_that_cannot_be_written_are_usage_errors_before_connecting(
        tmp_path: Path) -> None:
    """Every --out (and calibrate --export) is checked before the database is reached or any
    work is done: a folder where a file is expected, a file where a folder is, a missing
    folder that cannot be made (its parent is a file)."""
    home = tmp_path / "home"
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    a_folder = tmp_path / "a-folder.csv"
    a_folder.mkdir()
    cases = [
        (["export", "scores", "--out", str(a_folder)], "output file", "is a folder, not a file"),
        (["export", "scores", "--out", str(a_file / "scores.csv")], "output file",
         f"cannot be made: {a_file} is not a folder"),
        (["report", "monthly", "--county", "410502", "--month", "2024-05", "--out",
          str(a_file)], "output folder", "is not a folder"),
        (["db", "backup", "--out", str(a_folder)], "backup file", "is a folder, not a file"),
        (["db", "backup", "--out", str(a_file / "b.jsonl.gz")], "backup file",
         "cannot be made"),
        (["calibrate", "--export", str(a_file / "model.json")], "model file", "cannot be made"),
        (["demo", "generate", "--out", str(a_file), "--scale", "0.01"], "output folder",
         "is not a folder"),
        (["demo", "generate", "--out", str(a_file / "city"), "--scale", "0.01"],
         "output folder", "cannot be made"),
    ]
    for args, what, words in cases:
        _usage_error(run(args, home, **NO_SERVER), what, words)
    assert a_file.read_text(encoding="utf-8") == "x" and not any(a_folder.iterdir())
    assert not (home / "runs").exists()
