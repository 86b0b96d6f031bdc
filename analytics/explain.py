"""Explanations in words (zh/en) and "what changed since the last run and why".

:func:`render` turns a ScoreRecord's structured explanation into sentences; ``mask`` is called
on every node key or name shown, so access control can mask people and firms a user may not
see. :func:`diff` compares two ScoreRecords (dicts) of one enterprise.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from analytics.indicators import INDICATOR_BY_ID

Mask = Callable[[str, str], str]
"""``mask(label, key) -> text shown`` for a node on a path."""

REL_WORDS: dict[str, tuple[str, str]] = {
    "LEGAL_REP_OF": ("法定代表人", "legal representative"),
    "OFFICER_OF": ("高管", "officer"),
    "SHAREHOLDER_OF": ("股东", "shareholder"),
    "REGISTERED_AT": ("同一住所", "shared address"),
    "HAS_PHONE": ("同一电话", "shared phone"),
    "BRANCH_OF": ("分支机构", "branch"),
    "MANAGING_PARTNER_OF": ("执行事务合伙人", "managing partner"),
    "PAYS": ("资金往来", "money flow"),
    "SAME_AS": ("同一主体", "same entity"),
}
LEVEL_WORDS = {"red": ("红", "red"), "orange": ("橙", "orange"), "yellow": ("黄", "yellow"),
               "blue": ("蓝", "blue"), "none": ("无", "none")}


CHANNEL_WORDS: dict[str, tuple[str, str]] = {
    "people": ("人员", "people"), "phone": ("电话", "phone"), "address": ("地址", "address"),
    "corporate": ("股权/分支", "ownership/branch"), "money": ("资金", "money"),
}
"""Words of the channels linked risk came through (``explanation["linked_by"]``)."""


def channel_text(linked_by: Mapping[str, Any], lang: str = "zh") -> str:
    """``电话 20.1 · 人员 3.2`` (``phone 20.1 · people 3.2``): linked points by channel."""
    i = 0 if lang == "zh" else 1
    return " · ".join(f"{CHANNEL_WORDS.get(c, (c, c))[i]} {float(v):.1f}"
                      for c, v in linked_by.items())


def _identity(label: str, key: str) -> str:
    return key


def _explanation(record: Mapping[str, Any]) -> dict[str, Any]:
    raw = record.get("explanation") or {}
    if isinstance(raw, str):
        try:
            return dict(json.loads(raw))
        except ValueError:
            return {}
    return dict(raw)


def indicator_text(item: Mapping[str, Any], lang: str = "zh") -> str:
    """One indicator line: description, value, source, delivery, points. The folded line of a
    masked explanation (``id = "restricted"``, ``security.scope.mask_explanation``) says only
    how many police/credit indicators it stands for and their points."""
    pts_all = float(item.get("contribution") or 0.0)
    if item.get("id") == "restricted":
        n = int(item.get("count") or 0)
        if lang == "zh":
            return f"受限信息（公安、征信等 {n} 项，无权查看详情）+{pts_all:.1f}分"
        return f"restricted ({n} police/credit indicators, details withheld) +{pts_all:.1f} points"
    ind = INDICATOR_BY_ID.get(str(item.get("id")))
    desc = (ind.zh if lang == "zh" else ind.en) if ind else str(item.get("id"))
    pts = float(item.get("contribution") or 0.0)
    value = item.get("value")
    src, delivery = item.get("source", ""), item.get("delivery", "")
    if lang == "zh":
        return f"{desc}（{value}；来源 {src} {delivery}）+{pts:.1f}分"
    return f"{desc} ({value}; source {src} {delivery}) +{pts:.1f} points"


def path_text(path: Mapping[str, Any], lang: str = "zh", mask: Mask = _identity) -> str:
    """One path line: source → (relationship) → node → … with its contribution."""
    nodes = list(path.get("nodes") or [])
    labels = list(path.get("labels") or ["" for _ in nodes])
    rels = list(path.get("rels") or [])
    parts = [mask(labels[0] if labels else "", nodes[0])] if nodes else []
    for i, node in enumerate(nodes[1:], start=1):
        rel = rels[i - 1] if i - 1 < len(rels) else ""
        word = REL_WORDS.get(rel, (rel, rel))[0 if lang == "zh" else 1]
        parts.append(f"—{word}→ {mask(labels[i] if i < len(labels) else '', node)}")
    pts = float(path.get("contribution") or 0.0)
    tail = f"（关联风险 +{pts:.1f}分）" if lang == "zh" else f" (linked risk +{pts:.1f} points)"
    return " ".join(parts) + tail


def render(record: Mapping[str, Any], lang: str = "zh", mask: Mask = _identity) -> list[str]:
    """The explanation of a ScoreRecord as lines of text."""
    exp = _explanation(record)
    level = LEVEL_WORDS.get(str(record.get("level") or "none"), ("", ""))[0 if lang == "zh"
                                                                        else 1]
    name = mask("Enterprise", str(record.get("name") or record.get("uscc") or ""))
    score = float(record.get("score") or 0.0)
    by = channel_text(exp["linked_by"], lang) if exp.get("linked_by") else ""
    if lang == "zh":
        lines = [f"{name}：风险分 {score:.1f}（{level}），直接 {exp.get('direct', 0):.1f}，"
                 f"关联 {exp.get('linked', 0):.1f}" + (f"（{by}）" if by else "")]
    else:
        lines = [f"{name}: risk score {score:.1f} ({level}), direct {exp.get('direct', 0):.1f}, "
                 f"linked {exp.get('linked', 0):.1f}" + (f" ({by})" if by else "")]
    lines += [indicator_text(i, lang) for i in exp.get("indicators", [])]
    lines += [path_text(p, lang, mask) for p in exp.get("paths", [])]
    return lines


def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """What changed between two ScoreRecords of one enterprise, and why.

    Returns ``{"score_from", "score_to", "delta", "level_from", "level_to", "added",
    "removed", "changed": [{"id", "from", "to"}], "linked_from", "linked_to"}`` where added /
    removed / changed are indicator ids (contributions in points)."""
    old_exp = _explanation(old or {})
    new_exp = _explanation(new)
    a = {i["id"]: float(i.get("contribution") or 0) for i in old_exp.get("indicators", [])}
    b = {i["id"]: float(i.get("contribution") or 0) for i in new_exp.get("indicators", [])}
    s0 = float((old or {}).get("score") or 0.0)
    s1 = float(new.get("score") or 0.0)
    return {
        "score_from": s0, "score_to": s1, "delta": round(s1 - s0, 2),
        "level_from": (old or {}).get("level", "none"), "level_to": new.get("level", "none"),
        "added": sorted(set(b) - set(a)), "removed": sorted(set(a) - set(b)),
        "changed": [{"id": k, "from": round(a[k], 2), "to": round(b[k], 2)}
                    for k in sorted(set(a) & set(b)) if abs(a[k] - b[k]) >= 0.5],
        "linked_from": float(old_exp.get("linked") or 0.0),
        "linked_to": float(new_exp.get("linked") or 0.0),
    }


def diff_text(d: Mapping[str, Any], lang: str = "zh") -> str:
    """A one-line summary of :func:`diff`."""
    def names(ids: list[str]) -> str:
        out = []
        for i in ids:
            ind = INDICATOR_BY_ID.get(i)
            out.append((ind.zh if lang == "zh" else ind.en) if ind else i)
        return "、".join(out) if lang == "zh" else ", ".join(out)

    if lang == "zh":
        parts = [f"风险分 {d['score_from']:.1f} → {d['score_to']:.1f}"]
        if d["added"]:
            parts.append(f"新增：{names(d['added'])}")
        if d["removed"]:
            parts.append(f"消失：{names(d['removed'])}")
        if abs(d["linked_to"] - d["linked_from"]) >= 0.5:
            parts.append(f"关联风险 {d['linked_from']:.1f} → {d['linked_to']:.1f}")
        return "；".join(parts)
    parts = [f"score {d['score_from']:.1f} → {d['score_to']:.1f}"]
    if d["added"]:
        parts.append(f"new: {names(d['added'])}")
    if d["removed"]:
        parts.append(f"gone: {names(d['removed'])}")
    if abs(d["linked_to"] - d["linked_from"]) >= 0.5:
        parts.append(f"linked risk {d['linked_from']:.1f} → {d['linked_to']:.1f}")
    return "; ".join(parts)
