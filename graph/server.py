"""Lifecycle of riskgraph's own local Neo4j 5.26 Community server.

The server is a small Java launcher (``graph/neo4j_server``: an embedded
``DatabaseManagementService`` with only the Bolt connector on ``127.0.0.1:PORT``, auth on, HTTP
off), built once with Maven (to resolve the pinned jars; offline afterwards) and ``javac``.

Files, all under ``settings.home`` (``RISKGRAPH_HOME``)::

    secrets/neo4j_password   password of user ``neo4j`` (generated on first start, mode 0600)
    neo4j/                   the Neo4j home: data/, logs/debug.log
    neo4j/neo4j.pid          "<pid>\\n<port>\\n" of the running server
    neo4j/neo4j.log          the launcher's own output (STARTING / READY / STOPPED lines)

Every function takes a :class:`~riskgraph.settings.Settings`; nothing reads the environment. The
server runs detached in its own session so the CLI can exit while it keeps running.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from riskgraph.errors import ConfigError, DatabaseError
from riskgraph.settings import Settings, check_memory_size, check_tx_log_retention

SERVER_DIR = Path(__file__).resolve().parent / "neo4j_server"
MAIN_CLASS = "riskgraph.Neo4jServer"
HOST = "127.0.0.1"
JDK_HINT = "install OpenJDK 17 (apt-get install openjdk-17-jdk-headless maven)"
START_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0

_GC_FLAG = re.compile(r"^-XX:\+Use\w*GC$")  # a collector choice in NEO4J_JAVA_OPTS
_READY = re.compile(r"^READY (\S+) version=(\S+) pid=(\d+)", re.MULTILINE)


def _say(message: str) -> None:
    """Operator-facing progress notes go to stderr, so stdout stays machine-readable."""
    print(message, file=sys.stderr, flush=True)


# --- paths ------------------------------------------------------------------------------------


def password_file(settings: Settings) -> Path:
    return settings.secrets_dir / "neo4j_password"


def pid_file(settings: Settings) -> Path:
    return settings.db_dir / "neo4j.pid"


def log_file(settings: Settings) -> Path:
    return settings.db_dir / "neo4j.log"


def bolt_uri(port: int) -> str:
    return f"bolt://{HOST}:{port}"


def _target() -> Path:
    return SERVER_DIR / "target"


def _classpath_file() -> Path:
    return _target() / "classpath.txt"


def _class_file() -> Path:
    return _target() / "classes" / "riskgraph" / "Neo4jServer.class"


def _source_file() -> Path:
    return SERVER_DIR / "src" / "main" / "java" / "riskgraph" / "Neo4jServer.java"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (one build / one start at a time across processes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --- build ------------------------------------------------------------------------------------


def _which(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise ConfigError(
            f"`{tool}` was not found on PATH; the local Neo4j needs Java 17", JDK_HINT
        )
    return found


def _stale() -> bool:
    cls, cp = _class_file(), _classpath_file()
    if not cls.exists() or not cp.exists():
        return True
    newest_src = max(_source_file().stat().st_mtime, (SERVER_DIR / "pom.xml").stat().st_mtime)
    if cls.stat().st_mtime < newest_src or cp.stat().st_mtime < newest_src:
        return True
    return not all(Path(p).exists() for p in cp.read_text().strip().split(os.pathsep) if p)


def _run_build_step(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=SERVER_DIR, capture_output=True, text=True, check=False)


def ensure_built(settings: Settings | None = None) -> str:
    """Build the Java launcher if missing or stale; return the Java classpath to run it.

    Maven resolves the pinned ``org.neo4j:neo4j``/``neo4j-bolt`` 5.26 jars into ``~/.m2`` (tried
    offline first, so later builds need no network) and writes the classpath; ``javac`` compiles
    the one class. ``settings`` is accepted for symmetry with the other functions.
    """
    del settings
    _which("java")
    with _locked(_target() / ".build.lock"):
        if _stale():
            mvn, javac = _which("mvn"), _which("javac")
            _say("building the local Neo4j launcher (first time: Maven fetches the Neo4j jars)…")
            started = time.monotonic()
            cp_out = str(_classpath_file())
            base = [mvn, "-q", "-B", "dependency:build-classpath", f"-Dmdep.outputFile={cp_out}"]
            done = _run_build_step([base[0], "-o", *base[1:]])
            if done.returncode != 0:
                done = _run_build_step(base)
            if done.returncode != 0 or not _classpath_file().exists():
                tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
                raise DatabaseError(
                    "Maven could not resolve the Neo4j 5.26 jars: " + " / ".join(tail),
                    "the first build needs Maven Central (or a filled ~/.m2); see mvn output",
                )
            classes = _target() / "classes"
            classes.mkdir(parents=True, exist_ok=True)
            done = _run_build_step([javac, "--release", "17", "-d", str(classes), "-cp",
                                    _classpath_file().read_text().strip(), str(_source_file())])
            if done.returncode != 0:
                raise DatabaseError(
                    "javac failed on Neo4jServer.java: " + done.stderr.strip()[-500:],
                    JDK_HINT,
                )
            _classpath_file().touch()
            _say(f"built the launcher in {time.monotonic() - started:.1f}s")
        return os.pathsep.join([str(_target() / "classes"),
                                _classpath_file().read_text().strip()])


# --- password ---------------------------------------------------------------------------------


def ensure_password(settings: Settings) -> str:
    """The local server's password, generated with ``secrets`` on first use (file mode 0600)."""
    path = password_file(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(24) + "\n")
    os.chmod(path, 0o600)
    return read_password(settings)


def read_password(settings: Settings) -> str:
    """The stored password of the local server's user ``neo4j``."""
    path = password_file(settings)
    try:
        password = path.read_text().strip()
    except FileNotFoundError as exc:
        raise ConfigError(
            f"no password for the local Neo4j in {path}", "run `riskgraph db start` first"
        ) from exc
    if not password:
        raise ConfigError(f"{path} is empty", "delete it and the local database, then start again")
    return password


# --- process bookkeeping ----------------------------------------------------------------------


def _read_pid(settings: Settings) -> tuple[int, int] | None:
    try:
        parts = pid_file(settings).read_text().split()
        return int(parts[0]), int(parts[1])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _is_our_server(pid: int, settings: Settings) -> bool:
    """True when ``pid`` is alive and is the launcher for this home (not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    args = [a.decode(errors="replace") for a in cmdline]
    if MAIN_CLASS not in args:
        return False
    try:
        home = Path(args[args.index("--home") + 1])
    except (ValueError, IndexError):
        return False
    return home.resolve() == settings.db_dir.resolve()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as dead
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _port_busy(port: int) -> bool:
    """True when something on this machine listens on 127.0.0.1:``port`` (or holds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        if sock.connect_ex((HOST, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # like Neo4j's own listener: connections in TIME_WAIT do not block the port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def _log_tail(settings: Settings, offset: int = 0, lines: int = 8) -> str:
    try:
        with open(log_file(settings), "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(offset, size - 256 * 1024))
            text = fh.read().decode(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _failure_line(text: str) -> str:
    for line in reversed(text.splitlines()):
        if line.startswith("FAILED") or "Exception" in line or "Error" in line:
            return line.strip()[:300]
    return text.strip().splitlines()[-1][:300] if text.strip() else "no output"


def _bolt_round_trip(uri: str, password: str, timeout: float = 10.0) -> None:
    """One authenticated query; raises a RiskgraphError when it fails."""
    from graph.connection import open_driver  # the one place drivers are created

    driver = open_driver(uri, "neo4j", password, database="neo4j", timeout=timeout,
                         password_hint="the password file does not match the local database")
    driver.close()


def _clean_stale(settings: Settings, reason: str) -> None:
    _say(f"removing stale pid file {pid_file(settings)} ({reason})")
    with contextlib.suppress(FileNotFoundError):
        pid_file(settings).unlink()


# --- lifecycle --------------------------------------------------------------------------------


def _require_local(settings: Settings) -> None:
    if not settings.local:
        raise ConfigError(
            f"NEO4J_URI is set ({settings.neo4j_uri}); riskgraph does not run a local Neo4j then",
            "unset NEO4J_URI to use the local server",
        )


def _java_command(settings: Settings, classpath: str, port: int) -> list[str]:
    # checked when the settings load; again here for Settings built in code (tests, benches)
    check_memory_size("RISKGRAPH_NEO4J_HEAP", settings.heap)
    check_memory_size("RISKGRAPH_NEO4J_PAGECACHE", settings.pagecache)
    check_tx_log_retention(settings.tx_log_retention)
    extra = shlex.split(settings.java_opts)
    gc = [] if any(_GC_FLAG.match(o) for o in extra) else ["-XX:+UseG1GC"]
    return [
        _which("java"),
        f"-Xms{settings.heap}",
        f"-Xmx{settings.heap}",
        *gc,
        *extra,
        "-XX:-OmitStackTraceInFastThrow",
        "-XX:+ExitOnOutOfMemoryError",
        "--add-opens=java.base/java.nio=ALL-UNNAMED",
        "--add-opens=java.base/java.io=ALL-UNNAMED",
        "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "-Dio.netty.tryReflectionSetAccessible=true",
        "-Dfile.encoding=UTF-8",
        "-cp",
        classpath,
        MAIN_CLASS,
        "--home",
        str(settings.db_dir),
        "--port",
        str(port),
        "--password-file",
        str(password_file(settings)),
        "--pagecache",
        settings.pagecache,
        "--tx-log-retention",
        settings.tx_log_retention,
    ]


def start(settings: Settings, port: int | None = None, timeout: float = START_TIMEOUT) -> str:
    """Start the local server (idempotent) and return its Bolt URI once a query succeeds.

    Already running and answering: returns its URI. A pid file whose process is gone (or is not
    our server) is removed with a note. A port held by another program raises
    :class:`DatabaseError` at once. Waits up to ``timeout`` seconds for an authenticated Bolt
    round trip; on failure the process is stopped and the log's last lines are in the error.
    """
    _require_local(settings)
    port = port or settings.bolt_port
    settings.db_dir.mkdir(parents=True, exist_ok=True)
    with _locked(settings.db_dir / "neo4j.lock"):
        password = ensure_password(settings)
        recovered = _recover_bulk(settings)
        known = _read_pid(settings)
        if known is not None:
            pid, running_port = known
            if _alive(pid) and _is_our_server(pid, settings):
                uri = bolt_uri(running_port)
                if running_port != port:
                    _say(f"the local Neo4j already runs on port {running_port} (not {port})")
                if _wait_ready(settings, pid, uri, password, timeout, offset=0):
                    return uri
            else:
                _clean_stale(settings, f"process {pid} is not running")

        if _port_busy(port):
            raise DatabaseError(
                f"port {port} on {HOST} is already in use by another program",
                "stop that program, or choose another port: riskgraph db start --port N "
                "(or set RISKGRAPH_BOLT_PORT)",
            )
        classpath = ensure_built(settings)
        command = _java_command(settings, classpath, port)
        log = log_file(settings)
        offset = log.stat().st_size if log.exists() else 0
        started = time.monotonic()
        with open(log, "ab") as out:
            out.write(f"--- riskgraph db start {time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode())
            out.flush()
            proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=settings.db_dir, start_new_session=True, close_fds=True,
            )
        pid_file(settings).write_text(f"{proc.pid}\n{port}\n")
        uri = bolt_uri(port)
        try:
            _wait_ready(settings, proc.pid, uri, password, timeout, offset=offset, proc=proc)
        except BaseException:
            _terminate(proc.pid, 20.0)
            with contextlib.suppress(FileNotFoundError):
                pid_file(settings).unlink()
            raise
        _say(f"local Neo4j started in {time.monotonic() - started:.1f}s at {uri}")
        if recovered is not None:
            recover_interrupted_bulk(settings, uri)
        return uri


def _wait_ready(settings: Settings, pid: int, uri: str, password: str, timeout: float,
                offset: int, proc: subprocess.Popen[bytes] | None = None) -> bool:
    """Wait until process ``pid`` logged READY and an authenticated round trip succeeds.

    Returns False when a server we did not launch (``proc`` None) has meanwhile exited.
    """
    deadline = time.monotonic() + timeout
    while True:
        exited = proc.poll() is not None if proc is not None else not _alive(pid)
        if exited:
            if proc is None:
                _clean_stale(settings, f"process {pid} exited")
                return False
            tail = _log_tail(settings, offset, lines=40)
            raise DatabaseError(
                f"the local Neo4j exited during start (exit code {proc.returncode}): "
                f"{_failure_line(tail)}",
                f"see {log_file(settings)} and {settings.db_dir / 'logs' / 'debug.log'}",
            )
        text = _log_tail(settings, offset, lines=400)
        if any(int(m.group(3)) == pid for m in _READY.finditer(text)):
            try:
                _bolt_round_trip(uri, password, timeout=5.0)
                return True
            except DatabaseError:
                if time.monotonic() > deadline:
                    raise
        if time.monotonic() > deadline:
            raise DatabaseError(
                f"the local Neo4j did not answer on {uri} within {timeout:.0f}s",
                f"see {log_file(settings)}; a slow disk or too little memory may be the cause",
            )
        time.sleep(0.25)


def _terminate(pid: int, timeout: float) -> bool:
    """SIGTERM, wait, then SIGKILL. True if it stopped within ``timeout``."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not _alive(pid):
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    return False


def stop(settings: Settings, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop the local server cleanly (SIGTERM: Neo4j checkpoints and closes the store).

    Returns True if a server was stopped, False if none was running (a stale pid file is
    removed). Escalates to SIGKILL after ``timeout`` seconds, with a note.
    """
    _require_local(settings)
    known = _read_pid(settings)
    if known is None:
        return False
    pid, _port = known
    if not (_alive(pid) and _is_our_server(pid, settings)):
        _clean_stale(settings, f"process {pid} is not running")
        return False
    if not _terminate(pid, timeout):
        _say(f"the local Neo4j (pid {pid}) did not stop within {timeout:.0f}s and was killed")
    with contextlib.suppress(FileNotFoundError):
        pid_file(settings).unlink()
    return True


def status(settings: Settings) -> dict[str, Any]:
    """``running, pid, uri, port, data_dir, log, version`` of the local server (or the remote)."""
    if not settings.local:
        return {"running": None, "local": False, "uri": settings.neo4j_uri, "pid": None,
                "port": None, "data_dir": None, "log": None, "version": None}
    known = _read_pid(settings)
    pid, port = known if known is not None else (None, settings.bolt_port)
    running = pid is not None and _alive(pid) and _is_our_server(pid, settings)
    version = None
    ready = list(_READY.finditer(_log_tail(settings, 0, lines=400))) if running else []
    if ready and int(ready[-1].group(3)) == pid:
        version = ready[-1].group(2)
    return {
        "running": running,
        "local": True,
        "pid": pid if running else None,
        "uri": bolt_uri(port) if running else None,
        "port": port,
        "ready": version is not None,
        "data_dir": str(settings.db_dir),
        "log": str(log_file(settings)),
        "version": version,
    }


# --- bulk first load: Neo4j's offline importer on the (empty) local store ---------------------
#
# ingest/bulk.py writes CSV files, then calls :func:`bulk_import`: a marker file
# ``neo4j/bulk-import.json`` (owner pid, importer pid, the bookkeeping nodes to keep) is written,
# the server stopped, the database's store removed, ``neo4j-admin database import full`` run
# (our launcher's ``--import`` mode) and the server started again; a failed import leaves the
# store removed, so the database comes back EMPTY. The caller restores the kept nodes, applies
# the schema, writes the ledger and then removes the marker (:func:`bulk_finished`). A marker
# whose owner process is gone means a bulk load was killed half-way: the next :func:`start`
# removes whatever the importer left, starts the empty database, restores the kept nodes and
# removes the marker (the next ingest then starts over cleanly).

BULK_MARKER = "bulk-import.json"


def bulk_marker(settings: Settings) -> Path:
    return settings.db_dir / BULK_MARKER


def _store_dirs(settings: Settings, database: str) -> list[Path]:
    data = settings.db_dir / "data"
    return [data / "databases" / database, data / "transactions" / database]


def _wipe_store(settings: Settings, database: str) -> None:
    for folder in _store_dirs(settings, database):
        shutil.rmtree(folder, ignore_errors=True)


def _to_json(value: Any) -> Any:
    """Property values of kept nodes as JSON (temporal values tagged, see :func:`_from_json`)."""
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if hasattr(value, "iso_format"):
        return {"$neo4j.time": type(value).__name__, "v": value.iso_format()}
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict) and "$neo4j.time" in value:
        import neo4j.time

        return getattr(neo4j.time, value["$neo4j.time"]).from_iso_format(value["v"])
    return value


def _write_marker(settings: Settings, marker: dict[str, Any]) -> None:
    import json

    path = bulk_marker(settings)
    tmp = path.with_suffix(".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    # the kept nodes may include accounts (password hashes): owner-only, like the secrets
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(marker, ensure_ascii=False))
    tmp.replace(path)


def _read_marker(settings: Settings) -> dict[str, Any] | None:
    import json

    try:
        marker: dict[str, Any] = json.loads(bulk_marker(settings).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:
        return {"owner": None, "importer": None, "database": settings.neo4j_database,
                "kept": []}
    return marker


def bulk_finished(settings: Settings) -> None:
    """The bulk load is complete (ledger written): remove the marker."""
    with contextlib.suppress(FileNotFoundError):
        bulk_marker(settings).unlink()


def restore_kept(settings: Settings, uri: str, password: str | None,
                 kept: list[dict[str, Any]]) -> None:
    """Re-create the bookkeeping nodes ``kept`` (``{label, key, props}``) after an import."""
    from graph import access, cypher
    from graph.connection import open_driver

    if not kept:
        return
    driver = open_driver(uri, settings.neo4j_user, password or read_password(settings),
                         database=settings.neo4j_database)
    try:
        by_label: dict[str, list[dict[str, Any]]] = {}
        for item in kept:
            by_label.setdefault(item["label"], []).append(
                {"key": item["key"], "props": item["props"]})
        for label, rows in by_label.items():
            access.write(driver, cypher.bulk_restore_nodes(label), {"rows": rows},
                         database=settings.neo4j_database)
    finally:
        driver.close()


def _recover_bulk(settings: Settings) -> dict[str, Any] | None:
    """A bulk import whose owner died: stop what it left running, remove the half-made store.
    Returns the marker (its kept nodes are restored once the server is up), else None."""
    marker = _read_marker(settings)
    if marker is None:
        return None
    owner = marker.get("owner")
    if isinstance(owner, int) and owner != os.getpid() and _alive(owner):
        return None  # another process is importing right now
    if owner == os.getpid():
        return None
    importer = marker.get("importer")
    if isinstance(importer, int) and _alive(importer):
        try:
            args = Path(f"/proc/{importer}/cmdline").read_bytes().split(b"\0")
        except OSError:
            args = []
        if MAIN_CLASS.encode() in args and b"--import" in args:
            _terminate(importer, 20.0)
    known = _read_pid(settings)
    if known is not None and _alive(known[0]) and _is_our_server(known[0], settings):
        _terminate(known[0], STOP_TIMEOUT)
        with contextlib.suppress(FileNotFoundError):
            pid_file(settings).unlink()
    _say("an interrupted bulk import left the local database incomplete: emptying it "
         "(the next ingest loads everything again)")
    _wipe_store(settings, str(marker.get("database") or settings.neo4j_database))
    return marker


def recover_interrupted_bulk(settings: Settings, uri: str) -> None:
    """Called by :func:`start` once the server answers after :func:`_recover_bulk`."""
    marker = _read_marker(settings)
    if marker is None:
        return
    kept = [{**k, "props": {p: _from_json(v) for p, v in k["props"].items()}}
            for k in marker.get("kept") or []]
    restore_kept(settings, uri, None, kept)
    bulk_finished(settings)


def bulk_import(settings: Settings, args: list[str], kept: list[dict[str, Any]],
                log: Path) -> dict[str, Any]:
    """Stop the local server, replace its (empty) database by ``neo4j-admin database import
    full ARGS`` and start it again. Returns ``{"exit", "import_s", "import_cpu_s",
    "restart_s"}``; on a failed import the database is left empty and ``exit`` is non-zero
    (the caller raises). The marker stays until :func:`bulk_finished`."""
    _require_local(settings)
    database = settings.neo4j_database
    known = _read_pid(settings)
    port = known[1] if known is not None else settings.bolt_port
    marker: dict[str, Any] = {
        "owner": os.getpid(), "importer": None, "database": database,
        "kept": [{**k, "props": {p: _to_json(v) for p, v in k["props"].items()}}
                 for k in kept]}
    _write_marker(settings, marker)
    stop(settings)
    _wipe_store(settings, database)
    classpath = ensure_built(settings)
    java = _java_command(settings, classpath, port)
    cut = java.index(MAIN_CLASS)
    # the importer's heap grows as needed (no -Xms: its off-heap caches do the work)
    command = [*(a for a in java[:cut + 1] if not a.startswith("-Xms")), "--import",
               "--home", str(settings.db_dir), "--", *args, database]
    started = time.monotonic()
    code = -1
    cpu = 0.0
    with open(log, "ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            cwd=settings.db_dir, close_fds=True)
        marker["importer"] = proc.pid
        _write_marker(settings, marker)
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = code = os.waitstatus_to_exitcode(status)
            cpu = usage.ru_utime + usage.ru_stime
        except BaseException:
            _terminate(proc.pid, 20.0)
            _wipe_store(settings, database)
            raise
    seconds = time.monotonic() - started
    if code != 0:
        _wipe_store(settings, database)
    restart = time.monotonic()
    start(settings, port=port)
    return {"exit": code, "import_s": round(seconds, 3), "import_cpu_s": round(cpu, 3),
            "restart_s": round(time.monotonic() - restart, 3)}
