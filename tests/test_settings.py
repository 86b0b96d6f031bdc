"""Settings are read from the environment in one place, with clear errors."""

import pytest

from riskgraph.errors import ConfigError
from riskgraph.settings import load_settings


def test_defaults_use_local_neo4j() -> None:
    s = load_settings({})
    assert s.local and s.city == "410500" and s.levels["red"] > s.levels["blue"]


def test_remote_uri_disables_local() -> None:
    s = load_settings({"NEO4J_URI": "neo4j://db:7687", "NEO4J_PASSWORD": "x"})
    assert not s.local and s.neo4j_uri == "neo4j://db:7687"


@pytest.mark.parametrize(
    "env",
    [
        {"RISKGRAPH_CITY": "4105"},
        {"RISKGRAPH_BOLT_PORT": "abc"},
        {"RISKGRAPH_LEVEL_RED": "10"},
    ],
)
def test_bad_settings_raise_config_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert info.value.exit_code == 2 and info.value.hint


def test_java_opts_reach_the_server_command_and_a_collector_replaces_g1() -> None:
    from graph.server import _java_command

    default = _java_command(load_settings({}), "cp", 7000)
    assert "-XX:+UseG1GC" in default
    chosen = load_settings({"RISKGRAPH_NEO4J_JAVA_OPTS":
                            "-XX:+UseParallelGC -XX:TieredStopAtLevel=1"})
    cmd = _java_command(chosen, "cp", 7000)
    assert "-XX:+UseG1GC" not in cmd
    assert cmd.index("-XX:+UseParallelGC") < cmd.index("-cp")
    assert "-XX:TieredStopAtLevel=1" in cmd
    extra_only = _java_command(load_settings({"RISKGRAPH_NEO4J_JAVA_OPTS": "-Xss2m"}), "cp", 7000)
    assert "-XX:+UseG1GC" in extra_only and "-Xss2m" in extra_only


def test_bulk_load_setting():
    assert load_settings({}).bulk_load == "auto"
    assert load_settings({"RISKGRAPH_BULK_LOAD": "OFF"}).bulk_load == "off"
    with pytest.raises(ConfigError, match="RISKGRAPH_BULK_LOAD"):
        load_settings({"RISKGRAPH_BULK_LOAD": "yes"})


def test_score_workers_setting() -> None:
    assert load_settings({}).score_workers == 2
    assert load_settings({"RISKGRAPH_SCORE_WORKERS": "1"}).score_workers == 1
    for bad in ("0", "two", "500"):
        with pytest.raises(ConfigError):
            load_settings({"RISKGRAPH_SCORE_WORKERS": bad})


def test_ingest_read_process_setting() -> None:
    assert load_settings({}).read_process_mb == 32
    assert load_settings({"RISKGRAPH_INGEST_READ_PROCESS_MB": "0"}).read_process_mb == 0
    for bad in ("-1", "lots"):
        with pytest.raises(ConfigError):
            load_settings({"RISKGRAPH_INGEST_READ_PROCESS_MB": bad})


def test_projection_cache_setting() -> None:
    assert load_settings({}).projection_cache is True
    assert load_settings({"RISKGRAPH_PROJECTION_CACHE": "off"}).projection_cache is False
    assert load_settings({"RISKGRAPH_PROJECTION_CACHE": "ON"}).projection_cache is True
    with pytest.raises(ConfigError):
        load_settings({"RISKGRAPH_PROJECTION_CACHE": "sometimes"})
    home = load_settings({"RISKGRAPH_HOME": "/tmp/x"})
    assert home.projection_cache_file.parent.parent == home.home


def test_score_tolerance_setting() -> None:
    assert load_settings({}).score_tolerance == 0.5
    assert load_settings({"RISKGRAPH_SCORE_TOLERANCE": "0"}).score_tolerance == 0.0
    assert load_settings({"RISKGRAPH_SCORE_TOLERANCE": "1.5"}).score_tolerance == 1.5
    for bad in ("-0.1", "6", "some"):
        with pytest.raises(ConfigError):
            load_settings({"RISKGRAPH_SCORE_TOLERANCE": bad})


def test_neo4j_database_setting_prefers_the_prefixed_name() -> None:
    assert load_settings({}).neo4j_database == "neo4j"
    assert load_settings({"RISKGRAPH_NEO4J_DATABASE": "city"}).neo4j_database == "city"
    # the unprefixed name still works (older environment files), the prefixed one wins
    assert load_settings({"NEO4J_DATABASE": "old"}).neo4j_database == "old"
    both = {"NEO4J_DATABASE": "old", "RISKGRAPH_NEO4J_DATABASE": "city"}
    assert load_settings(both).neo4j_database == "city"
    assert load_settings({"RISKGRAPH_NEO4J_DATABASE": "", "NEO4J_DATABASE": "old"}
                         ).neo4j_database == "old"


def test_ledger_level_is_checked_when_settings_load() -> None:
    assert load_settings({}).ledger_level == "orange"
    assert load_settings({"RISKGRAPH_LEDGER_LEVEL": "Yellow"}).ledger_level == "yellow"
    with pytest.raises(ConfigError, match="RISKGRAPH_LEDGER_LEVEL") as info:
        load_settings({"RISKGRAPH_LEDGER_LEVEL": "purple"})
    assert info.value.exit_code == 2 and "orange" in (info.value.hint or "")


@pytest.mark.parametrize(("name", "good", "bad"), [
    ("RISKGRAPH_BOLT_PORT", ("1", "7697", "65535"), ("0", "65536", "-1", "x")),
    ("RISKGRAPH_BATCH_SIZE", ("1", "2000"), ("0", "-5", "1.5")),
    ("RISKGRAPH_CONTROLLER_THRESHOLD", ("0.25", "1"), ("0", "-0.1", "1.5", "nan", "half")),
    ("RISKGRAPH_CLOSURE_TARGET", ("0", "0.15", "1"), ("-0.1", "1.5", "15%", "nan")),
    ("RISKGRAPH_ALERT_HOOK_TIMEOUT", ("0.5", "60"), ("0", "-1", "inf", "soon")),
    ("RISKGRAPH_ALERT_JUMP", ("20",), ("0", "101", "nan", "inf")),
    ("RISKGRAPH_LEVEL_BLUE", ("10",), ("nan", "inf")),
    # the local server's and the sign-in settings: not only when the server or app starts
    ("RISKGRAPH_NEO4J_HEAP", ("3g", "512m", "4G", "1048576"), ("3gb", "lots", "-1g", "2.5g")),
    ("RISKGRAPH_NEO4J_PAGECACHE", ("1g", "512M"), ("1 g", "half", "g")),
    ("RISKGRAPH_NEO4J_TX_LOG_RETENTION", ("2 files", "1G size", "7 days", "keep_all", "false"),
     ("forever", "2files", "7 weeks", "keep")),
    ("RISKGRAPH_AUTH", ("local", "NONE", "oidc"), ("ldap", "off")),
    ("RISKGRAPH_AUTH_MAX_FAILURES", ("1", "5"), ("0", "many", "nan", "2.5")),
    ("RISKGRAPH_AUTH_LOCKOUT_MINUTES", ("1", "30"), ("0.5", "soon", "inf")),
    ("RISKGRAPH_AUTH_SESSION_HOURS", ("0.1", "10"), ("0", "-1", "nan")),
])
def test_settings_are_checked_when_they_load(name: str, good: tuple[str, ...],
                                             bad: tuple[str, ...]) -> None:
    """Every command refuses a bad value (exit 2), whatever it uses: the message names the
    variable and the value as written, the hint what is accepted."""
    for value in good:
        load_settings({name: value})
    for value in bad:
        with pytest.raises(ConfigError, match=name) as info:
            load_settings({name: value})
        assert info.value.exit_code == 2 and info.value.hint, (name, value)
        assert value.lower() in info.value.message.lower(), info.value.message


def test_server_and_sign_in_settings_reach_the_settings() -> None:
    s = load_settings({"RISKGRAPH_NEO4J_HEAP": "3g", "RISKGRAPH_NEO4J_PAGECACHE": "512m",
                       "RISKGRAPH_NEO4J_TX_LOG_RETENTION": "1G size",
                       "RISKGRAPH_AUTH": "None", "RISKGRAPH_AUTH_MAX_FAILURES": "3",
                       "RISKGRAPH_AUTH_LOCKOUT_MINUTES": "30",
                       "RISKGRAPH_AUTH_SESSION_HOURS": "2", "RISKGRAPH_AUTH_PROVIDER": "idp"})
    assert (s.heap, s.pagecache, s.tx_log_retention) == ("3g", "512m", "1G size")
    assert (s.auth.mode, s.auth.max_failures, s.auth.lockout_minutes, s.auth.session_hours,
            s.auth.provider) == ("none", 3, 30.0, 2.0, "idp")
    empty = load_settings({"RISKGRAPH_NEO4J_HEAP": "", "RISKGRAPH_NEO4J_TX_LOG_RETENTION": ""})
    assert (empty.heap, empty.tx_log_retention) == ("2g", "2 files")  # empty counts as unset
    assert load_settings({}).auth.mode == "local"
