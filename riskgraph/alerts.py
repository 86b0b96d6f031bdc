"""Refresh alerts: what changed between two scoring runs, routed to counties and departments.

Alerts are computed from the ``ScoreRecord``s of the previous live run and of the new run
(:func:`candidates` reads them, :func:`compute` is a pure function over the rows):

* ``red`` — an enterprise newly at level red (it was not red before, or not scored);
* ``orange`` — newly at level orange (it was neither red nor orange before);
* ``jump`` — its score rose by at least ``jump`` points (``RISKGRAPH_ALERT_JUMP``, default 20)
  between the two runs;
* ``cross_region`` — a group of firms that is cross-region now and was not in the previous run.

Each alert is routed to a county (the enterprise's county; for a group its lead region, and
every county the group spans gets it in its digest) and to the supervising department written on
the ScoreRecord. ``alert_key`` is ``<kind>:<uscc or group_id>``: independent of the run, so the
same condition raised again updates the same ``Alert`` node (a handled alert raised again in a
later run is reopened as ``new``; ``seen`` stays ``seen``).

Outputs: ``Alert`` nodes with ``ALERT_FOR`` to the Enterprise or Group, and per county
``RISKGRAPH_HOME/alerts/<run_id>/<county>.md`` and ``.json`` (plus ``index.json``). A failed
run writes ``RISKGRAPH_HOME/alerts/FAILED-<run_id>.txt`` and runs the operator hook
(:func:`failure_notice`).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from neo4j import Driver

from graph import access, cypher
from riskgraph.runs import now_iso
from riskgraph.settings import Settings

DEFAULT_JUMP = 20.0
DEFAULT_HOOK_TIMEOUT = 60.0
KINDS = ("red", "orange", "jump", "cross_region")
STATUSES = ("new", "seen", "handled")
LEVEL_RANK = {"red": 4, "orange": 3, "yellow": 2, "blue": 1, "none": 0}
LEVEL_ZH = {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝", "none": "无"}
KIND_ZH = {"red": "新增红色预警", "orange": "新增橙色预警", "jump": "风险分大幅上升",
           "cross_region": "新发现跨区域关联群组"}
UNKNOWN_COUNTY = "unknown"
UNKNOWN_DEPARTMENT = "未指定"


def alert_jump(settings: Settings) -> float:
    """The jump threshold in points (setting ``RISKGRAPH_ALERT_JUMP``, default 20)."""
    return float(settings.alert_jump)


def hook_timeout(settings: Settings) -> float:
    """Seconds the alert hook may run (setting ``RISKGRAPH_ALERT_HOOK_TIMEOUT``, default 60)."""
    return float(settings.alert_hook_timeout)


@dataclass(frozen=True)
class Alert:
    """One alert of one refresh."""

    alert_key: str
    kind: str
    label: str  # Enterprise | Group
    subject: str  # uscc or group_id
    name: str
    county: str
    department: str
    score: float
    level: str
    prev_score: float | None
    prev_level: str | None
    counties: tuple[str, ...]
    members: int
    reasons: tuple[str, ...]
    message: str

    def props(self, run_id: str) -> dict[str, Any]:
        """Properties of the ``Alert`` node (status is managed by the MERGE)."""
        return {
            "kind": self.kind, "subject_label": self.label, "subject": self.subject,
            "uscc": self.subject if self.label == "Enterprise" else None,
            "group_id": self.subject if self.label == "Group" else None,
            "name": self.name, "county": self.county, "department": self.department,
            "score": self.score, "level": self.level, "prev_score": self.prev_score,
            "prev_level": self.prev_level, "counties": list(self.counties),
            "members": self.members, "reasons": list(self.reasons), "message": self.message,
            "run_id": run_id,
        }


def alert_key(kind: str, subject: str) -> str:
    """Stable key: the same condition on the same subject has the same key in every run."""
    return f"{kind}:{subject}"


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _enterprise_alert(kind: str, row: Mapping[str, Any], message: str) -> Alert:
    county = row.get("county") or UNKNOWN_COUNTY
    return Alert(
        alert_key=alert_key(kind, row["uscc"]), kind=kind, label="Enterprise",
        subject=row["uscc"], name=row.get("name") or row["uscc"], county=county,
        department=row.get("department") or UNKNOWN_DEPARTMENT,
        score=float(row.get("score") or 0.0), level=row.get("level") or "none",
        prev_score=_num(row.get("prev_score")), prev_level=row.get("prev_level"),
        counties=(county,), members=1, reasons=tuple(row.get("reasons") or ()),
        message=message,
    )


def _group_alert(group_id: str, rows: list[Mapping[str, Any]]) -> Alert:
    top = max(rows, key=lambda r: (float(r.get("score") or 0.0), r["uscc"]))
    counties = sorted({r.get("county") or UNKNOWN_COUNTY for r in rows})
    lead = next((r.get("lead_region") for r in rows if r.get("lead_region")), None)
    county = lead or top.get("county") or UNKNOWN_COUNTY
    if county not in counties:
        counties.insert(0, county)
    message = (f"跨区域群组 {group_id}：{len(rows)} 家企业，涉及 {len(counties)} 个区县，"
               f"建议主办地区 {county}；最高分 {top.get('name')} "
               f"{float(top.get('score') or 0):.0f} 分")
    return Alert(
        alert_key=alert_key("cross_region", group_id), kind="cross_region", label="Group",
        subject=group_id, name=f"{top.get('name') or top['uscc']} 等 {len(rows)} 家",
        county=county, department=top.get("department") or UNKNOWN_DEPARTMENT,
        score=float(top.get("score") or 0.0), level=top.get("level") or "none",
        prev_score=None, prev_level=None, counties=tuple(counties), members=len(rows),
        reasons=tuple(top.get("reasons") or ()), message=message,
    )


def compute(rows: Iterable[Mapping[str, Any]], previous_cross_groups: Iterable[str],
            jump: float = DEFAULT_JUMP) -> list[Alert]:
    """Alerts from candidate rows (see :func:`graph.cypher.alert_candidates`).

    ``previous_cross_groups``: group ids that were already cross-region in the previous run.
    Pure: no database, no files. Sorted by county, then score (highest first).
    """
    seen_groups = set(previous_cross_groups)
    alerts: list[Alert] = []
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        level = row.get("level") or "none"
        prev_level = row.get("prev_level")
        score = float(row.get("score") or 0.0)
        prev_score = _num(row.get("prev_score"))
        was = LEVEL_RANK.get(prev_level or "none", 0)
        before = (f"原 {LEVEL_ZH.get(str(prev_level), '无')} {prev_score:.0f} 分"
                  if prev_score is not None else "上次未评分")
        if level == "red" and prev_level != "red":
            alerts.append(_enterprise_alert(
                "red", row, f"新增红色预警：{score:.0f} 分（{before}）"))
        elif level == "orange" and was < LEVEL_RANK["orange"]:
            alerts.append(_enterprise_alert(
                "orange", row, f"新增橙色预警：{score:.0f} 分（{before}）"))
        if prev_score is not None and score - prev_score >= jump:
            alerts.append(_enterprise_alert(
                "jump", row, f"风险分上升 {score - prev_score:.0f} 分：{prev_score:.0f} → "
                f"{score:.0f}（{LEVEL_ZH.get(str(prev_level or 'none'), '无')} → "
                f"{LEVEL_ZH.get(level, '无')}）"))
        group_id = row.get("group_id")
        if row.get("cross_region") and group_id and group_id not in seen_groups:
            groups[group_id].append(row)
    alerts.extend(_group_alert(gid, members) for gid, members in groups.items())
    alerts.sort(key=lambda a: (a.county, -a.score, a.kind, a.subject))
    return alerts


# --- graph ------------------------------------------------------------------------------------


def candidates(driver: Driver, settings: Settings, run_id: str, prev_run_id: str | None,
               jump: float) -> tuple[list[dict[str, Any]], list[str]]:
    """Candidate rows of ``run_id`` and the cross-region groups of ``prev_run_id``."""
    db = settings.neo4j_database
    rows = access.read(driver, cypher.alert_candidates(),
                       {"run_id": run_id, "prev_run_id": prev_run_id,
                        "levels": ["red", "orange"], "jump": jump}, database=db)
    prev_groups: list[str] = []
    if prev_run_id:
        prev_groups = [r["group_id"] for r in access.read(
            driver, cypher.cross_region_groups_of_run(), {"run_id": prev_run_id}, database=db)]
    return rows, prev_groups


def write_alerts(driver: Driver, settings: Settings, run_id: str,
                 alerts: list[Alert]) -> int:
    """MERGE the Alert nodes and their ALERT_FOR links; returns the number written."""
    at = now_iso()
    db = settings.neo4j_database
    rows = [{"alert_key": a.alert_key, "run_id": run_id, "at": at, "props": a.props(run_id)}
            for a in alerts]
    access.write_batches(driver, cypher.merge_alerts(), rows, settings.batch_size, db)
    links = [{"alert_key": a.alert_key, "label": a.label, "key": a.subject} for a in alerts]
    access.write_batches(driver, cypher.link_alerts(), links, settings.batch_size, db)
    return len(rows)


def raise_alerts(driver: Driver, settings: Settings, run_id: str, prev_run_id: str | None,
                 jump: float = DEFAULT_JUMP, filed_as: str | None = None) -> list[Alert]:
    """Compute, store and digest the alerts of scoring run ``run_id`` against ``prev_run_id``.

    ``filed_as`` (default ``run_id``) is the id the alerts are filed under: the refresh run id,
    used for ``Alert.first_run``/``last_run`` and the digest folder ``alerts/<filed_as>/``.
    """
    filed = filed_as or run_id
    rows, prev_groups = candidates(driver, settings, run_id, prev_run_id, jump)
    alerts = compute(rows, prev_groups, jump)
    write_alerts(driver, settings, filed, alerts)
    write_digests(settings, filed, alerts, prev_run_id, scores_run=run_id)
    return alerts


def set_status(driver: Driver, settings: Settings, key: str, status: str,
               by: str = "system") -> bool:
    """Mark an alert ``new``/``seen``/``handled`` (for the app); False when it does not exist."""
    if status not in STATUSES:
        raise ValueError(f"unknown alert status {status!r}")
    changed = access.write(driver, cypher.set_alert_status(),
                           {"alert_key": key, "status": status, "by": by, "at": now_iso()},
                           database=settings.neo4j_database)
    return changed > 0


def list_alerts(driver: Driver, settings: Settings, county: str | None = None,
                status: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Alerts for the app, newest first, optionally of one county and status."""
    rows = access.read(driver, cypher.alerts_list(),
                       {"county": county, "status": status, "limit": limit},
                       database=settings.neo4j_database)
    return [r["alert"] for r in rows]


# --- files ------------------------------------------------------------------------------------


def alerts_dir(settings: Settings) -> Path:
    return settings.home / "alerts"


def _county_name(code: str) -> str:
    if code == UNKNOWN_COUNTY:
        return "未定区县"
    try:
        from riskgraph.divisions import divisions

        return divisions().name(code) or code
    except Exception:  # noqa: BLE001 - a name is a nicety; the code is enough
        return code


def _digest_md(settings: Settings, run_id: str, county: str, alerts: list[Alert],
               prev_run_id: str | None) -> str:
    lines = [f"> {settings.confidentiality_mark}", "",
             f"# 预警摘要 {_county_name(county)}（{county}）", "",
             f"- 刷新批次 run: `{run_id}`（对比 `{prev_run_id or '无（首次评分）'}`）",
             f"- 生成时间: {now_iso()}", f"- 预警条数: {len(alerts)}", ""]
    by_dept: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        by_dept[alert.department].append(alert)
    for dept in sorted(by_dept):
        lines += [f"## {dept}", "", "| 类型 | 对象 | 名称 | 分数 | 等级 | 说明 | alert_key |",
                  "|---|---|---|---|---|---|---|"]
        for a in by_dept[dept]:
            cells = [KIND_ZH.get(a.kind, a.kind), a.subject, a.name, f"{a.score:.0f}",
                     LEVEL_ZH.get(a.level, a.level), a.message, a.alert_key]
            lines.append("| " + " | ".join(c.replace("|", "／") for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def write_digests(settings: Settings, run_id: str, alerts: list[Alert],
                  prev_run_id: str | None = None,
                  scores_run: str | None = None) -> dict[str, Path]:
    """Per county ``alerts/<run_id>/<county>.md`` and ``.json``; returns county → md path.

    A group alert goes into the digest of every county it spans. ``index.json`` lists the
    counties and counts (written even when there is no alert).
    """
    out = alerts_dir(settings) / run_id
    out.mkdir(parents=True, exist_ok=True)
    per_county: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        for county in alert.counties:
            per_county[county].append(alert)
    paths: dict[str, Path] = {}
    for county, items in sorted(per_county.items()):
        md = out / f"{county}.md"
        md.write_text(_digest_md(settings, run_id, county, items, prev_run_id), encoding="utf-8")
        data = {"run_id": run_id, "scores_run": scores_run or run_id,
                "previous_run": prev_run_id, "county": county,
                "county_name": _county_name(county), "generated": now_iso(),
                "alerts": [asdict(a) for a in items]}
        (out / f"{county}.json").write_text(json.dumps(data, ensure_ascii=False, indent=2),
                                            encoding="utf-8")
        paths[county] = md
    index = {"run_id": run_id, "scores_run": scores_run or run_id,
             "previous_run": prev_run_id, "total": len(alerts),
             "by_kind": {k: sum(a.kind == k for a in alerts) for k in KINDS},
             "counties": {c: len(v) for c, v in sorted(per_county.items())}}
    (out / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=2),
                                    encoding="utf-8")
    return paths


def failure_notice(settings: Settings, run_id: str, error: str, details: Mapping[str, Any],
                   timeout: float = DEFAULT_HOOK_TIMEOUT) -> tuple[Path, str | None]:
    """Write ``alerts/FAILED-<run_id>.txt`` and run ``settings.alert_hook`` on it.

    The hook is a shell command; the notice path is appended as its one argument. It runs in
    its own process group and is killed (whole group) after ``timeout`` seconds. Returns the
    notice path and a one-line hook result (None when no hook is set). Never raises for a
    failing hook: the notice file is the primary signal.
    """
    path = alerts_dir(settings) / f"FAILED-{run_id}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"riskgraph refresh FAILED  run {run_id}", f"time: {now_iso()}", f"error: {error}",
             "the previous scores stay live; fix the cause and run `riskgraph refresh` again",
             ""]
    lines += [f"{k}: {v}" for k, v in details.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if not settings.alert_hook:
        return path, None
    return path, run_hook(settings.alert_hook, path, timeout)


def run_hook(hook: str, notice: Path, timeout: float) -> str:
    """Run ``hook <notice>`` through the shell, bounded by ``timeout``; returns a summary."""
    command = f"{hook} {shlex.quote(str(notice))}"
    proc = subprocess.Popen(command, shell=True, start_new_session=True,  # noqa: S602
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        return f"hook killed after {timeout:.0f}s timeout"
    tail = (output or "").strip().splitlines()[-1:] or [""]
    return f"hook exit {proc.returncode}" + (f": {tail[0][:200]}" if tail[0] else "")
