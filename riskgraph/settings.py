"""All settings of riskgraph, in one place.

Settings come from environment variables. The Neo4j connection uses the standard names
(``NEO4J_URI``, ``NEO4J_USER``, ``NEO4J_PASSWORD``); everything else has the ``RISKGRAPH_`` prefix
(the database name is ``RISKGRAPH_NEO4J_DATABASE``; the unprefixed ``NEO4J_DATABASE`` is still
read when the prefixed one is unset).
When ``NEO4J_URI`` is unset, riskgraph runs its own local Neo4j under ``RISKGRAPH_HOME``.

Read settings once at the edge (CLI, app, tests) with :func:`load_settings` and pass the
resulting :class:`Settings` down; library code never reads ``os.environ`` itself.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from riskgraph.errors import ConfigError

PREFIX = "RISKGRAPH_"

DEFAULT_LEVELS = {"red": 80.0, "orange": 60.0, "yellow": 40.0, "blue": 20.0}
LEDGER_LEVELS = ("red", "orange", "yellow", "blue", "none")
"""Values of ``RISKGRAPH_LEDGER_LEVEL``, highest first (``workflow.ledger.LEVEL_ORDER``)."""

MEMORY_SIZE = re.compile(r"^[0-9]+[kKmMgG]?$")
"""``RISKGRAPH_NEO4J_HEAP`` / ``RISKGRAPH_NEO4J_PAGECACHE``: a whole number, optionally k, m or g
(what both the JVM's ``-Xmx`` and Neo4j's page cache setting accept)."""
TX_LOG_RETENTION = re.compile(
    r"^(true|false|keep_all|keep_none|[0-9]+[kKmMgG]? (files|size|txs|entries|hours|days))$")
"""``RISKGRAPH_NEO4J_TX_LOG_RETENTION``: Neo4j's ``db.tx_log.rotation.retention_policy``."""

AUTH_MODES = ("local", "oidc", "none")
"""Values of ``RISKGRAPH_AUTH`` (:mod:`security.auth`)."""
AUTH_MAX_FAILURES = 5
AUTH_LOCKOUT_MINUTES = 15


@dataclass(frozen=True)
class AuthSettings:
    """Sign-in settings of the app (environment: ``RISKGRAPH_AUTH``,
    ``RISKGRAPH_AUTH_MAX_FAILURES``, ``RISKGRAPH_AUTH_LOCKOUT_MINUTES``,
    ``RISKGRAPH_AUTH_SESSION_HOURS``, ``RISKGRAPH_AUTH_PROVIDER``)."""

    mode: str = "local"
    max_failures: int = AUTH_MAX_FAILURES
    lockout_minutes: float = AUTH_LOCKOUT_MINUTES
    session_hours: float = 10.0
    provider: str | None = None


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Field names mirror the environment variables without the prefix."""

    home: Path = Path("var")
    city: str = "410500"
    inbox: Path | None = None
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str = "neo4j"
    bolt_port: int = 7697
    heap: str = "2g"
    pagecache: str = "2g"
    tx_log_retention: str = "2 files"  # local server: db.tx_log.rotation.retention_policy
    java_opts: str = ""  # extra JVM flags of the local server (a -XX:+Use*GC replaces G1)
    batch_size: int = 2000
    score_workers: int = 2  # processes evaluating indicators (1: in the scoring process)
    read_process_mb: int = 32  # new input of at least this size is read in a worker process
    bulk_load: str = "auto"  # auto: first load into an empty local graph via neo4j-admin import
    projection_cache: bool = True  # a rescore patches the last run's projection rows
    groups_in_child: bool = False  # groups found in a forked process (faster, more memory)
    hash_key: str | None = None
    levels: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    controller_threshold: float = 0.5
    ledger_level: str = "orange"
    closure_target: float = 0.15
    confidentiality_mark: str = "内部资料 注意保密"
    fx_rates: Mapping[str, float] = field(
        default_factory=lambda: {"美元": 7.1, "欧元": 7.8, "港元": 0.91, "日元": 0.048}
    )
    alert_hook: str | None = None
    alert_hook_timeout: float = 60.0
    alert_jump: float = 20.0
    score_tolerance: float = 0.5  # score points below which a record saying the same stays
    debug: bool = False
    auth: AuthSettings = field(default_factory=AuthSettings)

    @property
    def local(self) -> bool:
        """True when riskgraph runs its own Neo4j (no ``NEO4J_URI`` given)."""
        return self.neo4j_uri is None

    @property
    def db_dir(self) -> Path:
        return self.home / "neo4j"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def changes_dir(self) -> Path:
        """Change logs of transactional ingest loads (:mod:`graph.changes`)."""
        return self.home / "changes"

    @property
    def projection_cache_file(self) -> Path:
        """The last scoring run's projection rows (:mod:`analytics.projection_cache`)."""
        return self.home / "cache" / "projection.pkl"

    @property
    def ingest_shapes_file(self) -> Path:
        """The write shapes loads have used, planned ahead after a start (:mod:`ingest.warmup`)."""
        return self.home / "cache" / "ingest-shapes.json"

    @property
    def hits_cache_file(self) -> Path:
        """The last scoring run's indicator hits (:mod:`analytics.hits_cache`)."""
        return self.home / "cache" / "hits.pkl"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not an integer", "set it to a whole number") from exc


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "on", "true", "yes"):
        return True
    if raw in ("0", "off", "false", "no"):
        return False
    raise ConfigError(f"{name}={raw!r} is not on or off", "set it to on or off")


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number", "set it to a number") from exc
    if not math.isfinite(value):
        raise ConfigError(f"{name}={raw!r} is not a number", "set it to a finite number")
    return value


def _int_in(env: Mapping[str, str], name: str, default: int, low: int, high: int | None,
            hint: str) -> int:
    """An integer setting within ``low``..``high`` (no upper bound when ``high`` is None)."""
    value = _int(env, name, default)
    if value < low or (high is not None and value > high):
        bounds = f"{low}-{high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{name}={env.get(name)!r} is out of range ({bounds})", hint)
    return value


def _float_in(env: Mapping[str, str], name: str, default: float, low: float, high: float | None,
              hint: str, low_open: bool = False) -> float:
    """A number setting within ``low``..``high`` (``low`` excluded when ``low_open``; no upper
    bound when ``high`` is None)."""
    value = _float(env, name, default)
    too_low = value <= low if low_open else value < low
    if too_low or (high is not None and value > high):
        low_text = f"above {low:g}" if low_open else f"at least {low:g}"
        bounds = low_text + (f" and at most {high:g}" if high is not None else "")
        raise ConfigError(f"{name}={env.get(name)!r} is out of range ({bounds})", hint)
    return value


def _ledger_level(env: Mapping[str, str]) -> str:
    name = f"{PREFIX}LEDGER_LEVEL"
    level = (env.get(name) or "orange").strip().lower()
    if level not in LEDGER_LEVELS:
        raise ConfigError(
            f"{name}={level!r} is not a warning level",
            f"use one of {', '.join(LEDGER_LEVELS)}: entities at or above it enter the county "
            "ledgers (default orange)",
        )
    return level


def _score_workers(env: Mapping[str, str]) -> int:
    name = f"{PREFIX}SCORE_WORKERS"
    value = _int(env, name, 2)
    if not 1 <= value <= 64:
        raise ConfigError(f"{name}={value} is out of range",
                          "set it between 1 (no extra process) and the number of cores")
    return value


def _read_process_mb(env: Mapping[str, str]) -> int:
    name = f"{PREFIX}INGEST_READ_PROCESS_MB"
    value = _int(env, name, 32)
    if value < 0:
        raise ConfigError(f"{name}={value} is negative",
                          "set it to the size of new input (MB) worth a reader process; "
                          "0 = always")
    return value


def _levels(env: Mapping[str, str]) -> dict[str, float]:
    levels = {
        name: _float(env, f"{PREFIX}LEVEL_{name.upper()}", value)
        for name, value in DEFAULT_LEVELS.items()
    }
    ordered = [levels["red"], levels["orange"], levels["yellow"], levels["blue"]]
    if ordered != sorted(ordered, reverse=True) or not all(0 <= v <= 100 for v in ordered):
        raise ConfigError(
            f"level thresholds must fall from red to blue within 0-100, got {levels}",
            "check RISKGRAPH_LEVEL_RED/ORANGE/YELLOW/BLUE",
        )
    return levels


def _alert_jump(env: Mapping[str, str]) -> float:
    jump = _float(env, f"{PREFIX}ALERT_JUMP", 20.0)
    if not 0 < jump <= 100:
        raise ConfigError(
            f"RISKGRAPH_ALERT_JUMP={jump!r} is outside 0-100",
            "use a number of points between 1 and 100, e.g. 20",
        )
    return jump


def _score_tolerance(env: Mapping[str, str]) -> float:
    tolerance = _float(env, f"{PREFIX}SCORE_TOLERANCE", 0.5)
    if not 0 <= tolerance <= 5:
        raise ConfigError(
            f"RISKGRAPH_SCORE_TOLERANCE={tolerance!r} is outside 0-5",
            "use score points between 0 (every change is a new record) and 5, e.g. 0.5",
        )
    return tolerance


def _city(env: Mapping[str, str]) -> str:
    city = env.get(f"{PREFIX}CITY", "410500").strip()
    if len(city) != 6 or not city.isdigit():
        raise ConfigError(
            f"RISKGRAPH_CITY={city!r} is not a six-digit division code",
            "use the GB/T 2260 code of the city, e.g. 410500 for 安阳市",
        )
    return city


BULK_LOAD_MODES = ("auto", "off")


def _bulk_load(env: Mapping[str, str]) -> str:
    mode = (env.get(f"{PREFIX}BULK_LOAD") or "auto").strip().lower()
    if mode not in BULK_LOAD_MODES:
        raise ConfigError(
            f"RISKGRAPH_BULK_LOAD={mode!r} is not one of {', '.join(BULK_LOAD_MODES)}",
            "auto: a first load into the empty local graph uses Neo4j's offline importer; "
            "off: always the transactional path",
        )
    return mode


def check_memory_size(name: str, value: str) -> str:
    """``value`` of setting ``name`` when it is a memory size (``2g``, ``512m``); else
    ConfigError. Also the local server's check of :class:`Settings` built in code."""
    if not MEMORY_SIZE.match(value):
        raise ConfigError(f"{name}={value!r} is not a memory size",
                          "use a whole number with an optional unit k, m or g, e.g. 2g or 512m")
    return value


def check_tx_log_retention(value: str) -> str:
    """``value`` when it is a Neo4j transaction log retention policy; else ConfigError."""
    if not TX_LOG_RETENTION.match(value):
        raise ConfigError(
            f"{PREFIX}NEO4J_TX_LOG_RETENTION={value!r} is not a retention policy",
            "use keep_all, keep_none, true, false or a number (k, m, g allowed) with one of "
            "files, size, txs, entries, hours, days, e.g. '2 files', '1G size', '7 days'")
    return value


def _memory_size(env: Mapping[str, str], name: str, default: str) -> str:
    return check_memory_size(name, env.get(name) or default)


def auth_settings(env: Mapping[str, str]) -> AuthSettings:
    """The app's sign-in settings, checked (ConfigError names the variable and what it
    accepts). Whether the ``oidc`` mode can run here (Authlib installed) is the app's check,
    :func:`security.auth.load_auth_settings`: other commands do not sign anyone in."""
    name = f"{PREFIX}AUTH"
    mode = (env.get(name) or "local").strip().lower()
    if mode not in AUTH_MODES:
        raise ConfigError(f"{name}={mode!r} is not one of {', '.join(AUTH_MODES)}",
                          "use local (username/password), oidc (.streamlit/secrets.toml) "
                          "or, for development only, none")
    return AuthSettings(
        mode=mode,
        max_failures=_int_in(env, f"{name}_MAX_FAILURES", AUTH_MAX_FAILURES, 1, None,
                             "use the failed sign-ins that lock an account, a whole number "
                             f"of at least 1, e.g. {AUTH_MAX_FAILURES}"),
        lockout_minutes=_float_in(env, f"{name}_LOCKOUT_MINUTES", AUTH_LOCKOUT_MINUTES, 1, None,
                                  "use the minutes a locked account waits, at least 1, "
                                  f"e.g. {AUTH_LOCKOUT_MINUTES}"),
        session_hours=_float_in(env, f"{name}_SESSION_HOURS", 10.0, 0.1, None,
                                "use the hours a sign-in lasts, at least 0.1, e.g. 10"),
        provider=env.get(f"{name}_PROVIDER") or None,
    )


def _neo4j_database(env: Mapping[str, str]) -> str:
    """``RISKGRAPH_NEO4J_DATABASE``, else the older unprefixed ``NEO4J_DATABASE``, else
    ``neo4j`` (an empty value counts as unset)."""
    for name in (f"{PREFIX}NEO4J_DATABASE", "NEO4J_DATABASE"):
        value = (env.get(name) or "").strip()
        if value:
            return value
    return "neo4j"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    uri = env.get("NEO4J_URI") or None
    inbox = env.get(f"{PREFIX}INBOX")
    return Settings(
        home=Path(env.get(f"{PREFIX}HOME", "var")).absolute(),
        city=_city(env),
        inbox=Path(inbox).absolute() if inbox else None,
        neo4j_uri=uri,
        neo4j_user=env.get("NEO4J_USER", "neo4j"),
        neo4j_password=env.get("NEO4J_PASSWORD") or None,
        neo4j_database=_neo4j_database(env),
        bolt_port=_int_in(env, f"{PREFIX}BOLT_PORT", 7697, 1, 65535,
                          "use a free TCP port of the local server, e.g. 7697"),
        heap=_memory_size(env, f"{PREFIX}NEO4J_HEAP", "2g"),
        pagecache=_memory_size(env, f"{PREFIX}NEO4J_PAGECACHE", "2g"),
        java_opts=env.get(f"{PREFIX}NEO4J_JAVA_OPTS", ""),
        tx_log_retention=check_tx_log_retention(
            env.get(f"{PREFIX}NEO4J_TX_LOG_RETENTION") or "2 files"),
        batch_size=_int_in(env, f"{PREFIX}BATCH_SIZE", 2000, 1, None,
                           "use the rows per write transaction, e.g. 2000"),
        score_workers=_score_workers(env),
        read_process_mb=_read_process_mb(env),
        bulk_load=_bulk_load(env),
        projection_cache=_flag(env, f"{PREFIX}PROJECTION_CACHE", True),
        groups_in_child=_flag(env, f"{PREFIX}GROUPS_IN_CHILD", False),
        hash_key=env.get(f"{PREFIX}HASH_KEY") or None,
        levels=_levels(env),
        controller_threshold=_float_in(
            env, f"{PREFIX}CONTROLLER_THRESHOLD", 0.5, 0.0, 1.0,
            "use the effective share that makes an owner the controller, above 0 and at "
            "most 1, e.g. 0.5", low_open=True),
        ledger_level=_ledger_level(env),
        closure_target=_float_in(
            env, f"{PREFIX}CLOSURE_TARGET", 0.15, 0.0, 1.0,
            "use the yearly closure rate of old cases as a fraction 0-1, e.g. 0.15"),
        confidentiality_mark=env.get(f"{PREFIX}CONFIDENTIALITY_MARK", "内部资料 注意保密"),
        alert_hook=env.get(f"{PREFIX}ALERT_HOOK") or None,
        alert_hook_timeout=_float_in(env, f"{PREFIX}ALERT_HOOK_TIMEOUT", 60.0, 0.0, None,
                                     "use the seconds the alert hook may run, e.g. 60",
                                     low_open=True),
        alert_jump=_alert_jump(env),
        score_tolerance=_score_tolerance(env),
        debug=env.get(f"{PREFIX}DEBUG", "") not in ("", "0", "false"),
        auth=auth_settings(env),
    )
