"""Refresh run records on disk (riskgraph.runs; no database needed)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from dashboards import data
from riskgraph import paths, runs
from riskgraph.settings import load_settings


def test_refresh_record_is_the_run_report_and_refresh_json(tmp_path: Path) -> None:
    """``runs/<run_id>/report.json`` (the operators' contract) and ``refresh.json`` (read by
    existing tools) both hold the refresh record, rewritten at every save."""
    settings = load_settings({"RISKGRAPH_HOME": str(tmp_path)})
    record = runs.RefreshRecord(run_id=runs.new_run_id(), inbox="/in")
    runs.write_json(settings, record)
    folder = tmp_path / "runs" / record.run_id
    assert runs.report_path(settings, record.run_id) == folder / "report.json"
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert report == json.loads((folder / "refresh.json").read_text(encoding="utf-8"))
    assert report["run_id"] == record.run_id and report["kind"] == "refresh"
    assert report["outcome"] == "running"
    runs.write_json(settings, replace(record, outcome="ok", stage="done"))
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert report["outcome"] == "ok" and report["stage"] == "done"
    assert sorted(p.name for p in folder.iterdir()) == ["refresh.json", "report.json"]


def test_a_failed_write_leaves_the_previous_report_whole(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings({"RISKGRAPH_HOME": str(tmp_path)})
    record = runs.RefreshRecord(run_id="refresh-x", inbox="/in")
    runs.write_json(settings, record)
    folder = tmp_path / "runs" / "refresh-x"
    before = (folder / "report.json").read_bytes()

    def broken(path: Path, text: str) -> None:
        path.write_text(text[: len(text) // 2], encoding="utf-8")  # half written, then…
        raise OSError("disk full")

    monkeypatch.setattr(paths, "_write_text", broken)
    with pytest.raises(OSError):
        runs.write_json(settings, replace(record, outcome="ok"))
    assert (folder / "report.json").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["refresh.json", "report.json"]


def test_the_app_shows_the_ingest_report_not_the_refresh_record(tmp_path: Path) -> None:
    settings = load_settings({"RISKGRAPH_HOME": str(tmp_path)})
    ingest = tmp_path / "runs" / "refresh-a-ingest"
    ingest.mkdir(parents=True)
    (ingest / "report.json").write_text(json.dumps({"totals": {"rows_loaded": 3}, "files": []}),
                                        encoding="utf-8")
    runs.write_json(settings, runs.RefreshRecord(run_id="refresh-a", inbox="/in"))  # newer
    report = data.ingest_report(tmp_path, None)  # type: ignore[arg-type]
    assert report is not None and report["run_id"] == "refresh-a-ingest"
