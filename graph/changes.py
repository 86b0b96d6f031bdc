"""Change logs: what each transactional ingest load touched, for the projection cache.

Before a load writes to the graph, ingest writes one log file into ``RISKGRAPH_HOME/changes``
(:func:`write_log`): per label, the keys of every node it writes and of both ends of every
relationship it writes; and ``whole``, labels or relationship types changed in a way no key
names (a full snapshot ending what it omits). The log is written *before* the graph, so a
load that crashes leaves a log of at most more than it wrote; a superset is harmless (a
re-read node that did not change reads the same).

:mod:`analytics.projection_cache` re-reads exactly the nodes the logs name, and every
projected relationship around them, to patch the previous run's projection; after the
scoring run is live it removes the logs it folded in (:func:`remove_logs`). A log of a
process that is still running (an ingest beside the scoring run) is applied but kept.
A bulk first load writes no log: it replaces the store, which invalidates the cache anyway.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import count
from pathlib import Path

_SEQ = count()


@dataclass(frozen=True)
class ChangeLog:
    """One load's log: node keys per label and the labels/types changed as a whole."""

    name: str
    pid: int
    nodes: dict[str, list[str]]
    whole: list[str]

    @property
    def running(self) -> bool:
        """Written by another process that is still alive (its load may be under way)."""
        return self.pid != os.getpid() and pid_alive(self.pid)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def write_log(folder: Path, nodes: Mapping[str, Iterable[str]], whole: Iterable[str] = (),
              note: str = "") -> Path:
    """Write a log atomically (temporary file, fsync, rename); returns its path. Names sort
    in the order the logs were written."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}-{next(_SEQ):06d}.json"
    body = {"pid": os.getpid(), "note": note, "whole": sorted(set(whole)),
            "nodes": {label: sorted({str(k) for k in keys}) for label, keys in nodes.items()}}
    tmp = folder / f".{name}.tmp"
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(body, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    path = folder / name
    os.replace(tmp, path)
    return path


def read_logs(folder: Path) -> list[ChangeLog] | None:
    """Every log in ``folder``, oldest first; ``None`` when one cannot be read (the caller
    then reads the whole graph)."""
    if not folder.is_dir():
        return []
    out: list[ChangeLog] = []
    for path in sorted(folder.glob("*.json")):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            out.append(ChangeLog(path.name, int(body["pid"]),
                                 {str(k): [str(x) for x in v]
                                  for k, v in dict(body.get("nodes") or {}).items()},
                                 [str(x) for x in body.get("whole") or []]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
    return out


def remove_logs(folder: Path, names: Iterable[str]) -> None:
    """Remove folded-in logs (missing ones are fine)."""
    for name in names:
        try:
            (folder / name).unlink()
        except FileNotFoundError:
            pass


def clear(folder: Path) -> None:
    """Remove every log."""
    if folder.is_dir():
        remove_logs(folder, [p.name for p in folder.glob("*.json")])


def forget(cache_file: Path, folder: Path) -> None:
    """The graph was re-created (a restore): drop the projection cache (with its overlay and
    any staged file beside it) and every log, so the next scoring run reads the whole graph."""
    for path in (cache_file, *cache_file.parent.glob(cache_file.name + ".*")):
        try:
            path.unlink()
        except FileNotFoundError:
            pass
    clear(folder)
