"""Helpers shared by the pages: level labels and colours, column headers, the run banner,
and audited downloads."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboards.data import Runs
from dashboards.network_view import LEVEL_COLOURS
from dashboards.scope import Scope
from dashboards.state import audit, county_name, lang, live_runs, tr

LEVEL_MARK = "●"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def markdown_text(text: str) -> str:
    """``text`` (delivered names: files, sheets) for ``st.markdown`` as plain text: every
    markdown and Streamlit directive character escaped, so no name becomes a link, an image
    fetched from elsewhere, a colour or an icon."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def level_label(level: Any) -> str:
    """``red`` → ``红`` (in the selected language)."""
    key = str(level) if level in LEVEL_COLOURS else "none"
    return tr(f"level.{key}")


def level_pills(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The (translated) level column drawn as coloured pills: the frame with each level as a
    one-item list, and the column config (a read-only ``MultiselectColumn``). A pandas Styler
    would colour the cells too, but costs about a millisecond per row on every run."""
    column = tr("col.level")
    if column not in frame.columns:
        return frame, {}
    shown = frame.copy()
    shown[column] = [[v] if isinstance(v, str) and v else [] for v in frame[column]]
    config = st.column_config.MultiselectColumn(
        column, options=[tr(f"level.{k}") for k in LEVEL_COLOURS],
        color=list(LEVEL_COLOURS.values()))
    return shown, {column: config}


def indicator_name(indicator_id: Any, short: bool = False) -> str:
    """The indicator's declared description (analytics.indicators) in the selected language,
    else its id; ``short`` drops the parenthesised examples. The folded police/credit line of
    a masked explanation (``restricted``) says what it stands for."""
    if indicator_id == "restricted":
        return tr("profile.restricted")
    try:
        from analytics.indicators import INDICATOR_BY_ID
    except ImportError:
        return str(indicator_id)
    found = INDICATOR_BY_ID.get(str(indicator_id))
    if found is None:
        return str(indicator_id)
    text = str(found.en if lang() == "en" else found.zh)
    return text.split("（")[0].split(" (")[0] if short else text


def localise(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Keep ``columns`` (data name → i18n key) in order and translate their headers."""
    present = [c for c in columns if c in frame.columns]
    return frame[present].rename(columns={c: tr(columns[c]) for c in present})


def with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Readable copies of the level, county and list columns (missing values stay None:
    the tables show them as "—")."""
    out = frame.copy()
    if "level" in out:
        out["level"] = out["level"].map(lambda v: level_label(v) if isinstance(v, str) else "")
    if "prev_level" in out:
        # 新 for an enterprise not scored in the previous run; None (shown "—") when there is
        # nothing to compare with (the first run)
        new = out["is_new"].fillna(False).astype(bool) if "is_new" in out else \
            pd.Series(False, index=out.index)
        out["prev_level"] = [level_label(v) if isinstance(v, str) else
                             tr("change.new") if n else None
                             for v, n in zip(out["prev_level"], new, strict=True)]
    for col in ("county", "lead_region"):
        if col in out:
            out[col] = out[col].map(lambda v: county_name(v) if isinstance(v, str) else "")
    if "cross_region" in out:
        out["cross_region"] = out["cross_region"].map(lambda v: tr("yes") if v is True else "")
    if "reasons" in out:  # indicator names, not their ids
        out["reasons"] = out["reasons"].map(
            lambda v: "；".join(indicator_name(i, short=True) for i in v)
            if isinstance(v, list) else "")
    return out


def when(value: Any) -> str:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM`` (with `` UTC`` when it is UTC)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    return f"{moment:%Y-%m-%d %H:%M}" + (" UTC" if moment.utcoffset() == timedelta(0) else "")


def run_banner(scope: Scope) -> Runs | None:
    """Show the live run; returns it, or None (with a notice) when nothing is scored yet."""
    runs = live_runs(scope)
    if runs.live is None:
        st.info(tr("app.no_run"))
        return None
    st.caption(tr("app.live_run", run_id=runs.run_id, started=when(runs.live.get("started"))))
    return runs


Download = tuple[str, bytes, str, str]
"""One file to offer: (button label, content, file name, MIME type)."""


def audited_downloads(key: str, prepare_label: str, *, allowed: bool, target: str,
                      detail: dict[str, Any], build: Callable[[], list[Download]],
                      action: str = "export") -> None:
    """A "prepare" button, then the download buttons of the files ``build`` made.

    Nothing is built or offered unless ``allowed`` (the role's right, e.g. ``may_export``);
    a role without it sees a note and never the files. Preparing writes one ``action`` audit
    row (``export`` by default; ``handoff`` for hand-off packages) for ``target`` before the
    files exist, so every file that leaves the app is on the audit trail."""
    if not allowed:
        st.caption(tr("auth.no_export"))
        return
    slot = f"_rg_files_{key}"
    if st.button(prepare_label, key=f"{key}_prepare"):
        audit(action, target, detail, once=False)
        st.session_state[slot] = (target, build())
    held = st.session_state.get(slot)
    if not held or held[0] != target:
        return
    files = held[1]
    cols = st.columns(max(1, len(files)))
    for i, (label, content, name, mime) in enumerate(files):
        cols[i].download_button(label, data=content, file_name=name, mime=mime,
                                key=f"{key}_download_{i}")


MEMBER_COLUMNS = {"name": "col.name", "uscc": "col.uscc", "county": "col.county",
                  "score": "col.score", "level": "col.level", "note": "col.note"}


def group_member_rows(members: pd.DataFrame) -> pd.DataFrame:
    """Group members for display (the cross-region rule): every firm by name and code when
    the group touches the scope; other counties' members marked, with no score or level."""
    names = [n if isinstance(n, str) and n else tr("scope.outside")
             for n in members["name"]]
    notes = ["" if v else tr("cross.other_county") for v in members["visible"]]
    return with_labels(members.assign(name=names, note=notes))
