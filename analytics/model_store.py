"""Stored scoring models: ``ModelVersion`` nodes, at most one of them active.

A node holds ``version`` (the :class:`analytics.calibration.ModelVersion` id), ``kind``
(``noisy_or`` / ``lgbm``), ``name``, ``model_json`` (the whole model,
:meth:`ModelVersion.to_json`), ``cv_metrics`` (JSON of the cross-validated figures it was
promoted on), ``created``, ``parent`` (the version it replaced) and ``active``. Versions are
never deleted; activating one (promotion or ``--rollback``) deactivates the others in the same
transaction. With no active version, scoring uses the hand-set weights of
:mod:`analytics.indicators` (version ``handset-<hash>``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neo4j import Driver, ManagedTransaction

from analytics.calibration import ModelVersion
from graph import cypher
from riskgraph.errors import DataError, RejectedError, UsageError
from workflow.ledger import stamp

HANDSET = "handset"
"""``--rollback handset``: deactivate every stored version (back to the code's weights)."""


@dataclass(frozen=True)
class StoredVersion:
    """One row of ``riskgraph calibrate --list``."""

    version: str
    kind: str
    name: str
    created: str
    parent: str | None
    active: bool
    cv_metrics: dict[str, Any]


def _params(model: ModelVersion) -> dict[str, Any]:
    return {"version": model.version_id, "kind": model.kind, "name": model.name,
            "model_json": model.to_json(),
            "cv_metrics": json.dumps(model.to_dict()["cv_metrics"], ensure_ascii=False,
                                     sort_keys=True),
            "created": model.created_at or stamp(), "parent": model.parent_version}


def save(driver: Driver, model: ModelVersion, *, activate: bool = False,
         database: str | None = None) -> None:
    """Store ``model`` (a no-op if its version is stored); ``activate`` makes it the active
    version in the same transaction."""
    def work(tx: ManagedTransaction) -> None:
        tx.run(cypher.cal_model_create(), _params(model)).consume()
        if activate:
            tx.run(cypher.cal_model_activate(),
                   {"version": model.version_id, "at": stamp()}).consume()

    with driver.session(database=database) as session:
        session.execute_write(work)


def activate(driver: Driver, version: str, database: str | None = None) -> str | None:
    """Make the stored ``version`` the active one (``handset``: none active); returns the
    version now active (None for handset). Raises :class:`RejectedError` for an unknown one."""
    def work(tx: ManagedTransaction) -> list[str]:
        if version == HANDSET:
            tx.run(cypher.cal_model_deactivate_all(), {"at": stamp()}).consume()
            return [HANDSET]
        return [r["version"] for r in tx.run(cypher.cal_model_activate(),
                                              {"version": version, "at": stamp()})]

    with driver.session(database=database) as session:
        done = session.execute_write(work)
    if not done:
        known = ", ".join(v.version for v in list_versions(driver, database)) or "none"
        raise RejectedError(f"no stored model version {version!r}",
                            f"stored versions: {known}; or use 'handset'")
    return None if version == HANDSET else version


def _read(driver: Driver, query: str, params: dict[str, Any],
          database: str | None) -> list[dict[str, Any]]:
    # no "property does not exist" warnings before the first model is stored
    with driver.session(database=database, notifications_min_severity="OFF") as session:
        return session.execute_read(lambda tx: [r.data() for r in tx.run(query, params)])


def _model(props: dict[str, Any]) -> ModelVersion:
    return ModelVersion.from_json(str(props["model_json"]))


def active_model(driver: Driver, database: str | None = None) -> ModelVersion | None:
    """The active model, or None (hand-set weights of the code)."""
    rows = _read(driver, cypher.cal_model_active(), {}, database)
    return _model(rows[0]["model"]) if rows else None


def get(driver: Driver, version: str, database: str | None = None) -> ModelVersion | None:
    rows = _read(driver, cypher.cal_model_get(), {"version": version}, database)
    return _model(rows[0]["model"]) if rows else None


def list_versions(driver: Driver, database: str | None = None) -> list[StoredVersion]:
    out = []
    for r in _read(driver, cypher.cal_model_list(), {}, database):
        m = r["model"]
        try:
            metrics = json.loads(m.get("cv_metrics") or "{}")
        except ValueError:
            metrics = {}
        out.append(StoredVersion(str(m["version"]), str(m.get("kind") or ""),
                                 str(m.get("name") or ""), str(m.get("created") or ""),
                                 m.get("parent"), bool(m.get("active")), metrics))
    return out


EXPORT_FORMAT = "riskgraph-model"
EXPORT_FORMAT_VERSION = 1
"""``riskgraph calibrate --export`` writes ``{"format", "format_version", "exported_at",
"model"}``; ``model`` is :meth:`ModelVersion.to_dict` (a tree model's boosters as LightGBM's
own model text)."""


def export_model(driver: Driver, out: Path, version: str | None = None,
                 database: str | None = None) -> ModelVersion:
    """Write the stored ``version`` (default: the active one) to ``out`` as JSON, so another
    city (or a test machine) can import it; returns the model. Raises
    :class:`RejectedError` when there is nothing stored to export."""
    model = get(driver, version, database) if version else active_model(driver, database)
    if model is None:
        raise RejectedError(
            f"no stored model version {version!r}" if version else
            "no stored model is active: scoring uses the hand-set weights of the code, which "
            "every installation has", "list the stored versions with `riskgraph calibrate --list`")
    doc = {"format": EXPORT_FORMAT, "format_version": EXPORT_FORMAT_VERSION,
           "exported_at": stamp(), "model": model.to_dict()}
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1),
                       encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}",
                         "pass a path in a writable folder") from exc
    return model


def read_export(path: Path, known_features: frozenset[str] | set[str]) -> ModelVersion:
    """The model of an export file, checked: the format, a model this code can load, and only
    features this code computes (``known_features``). Raises :class:`DataError` (a file that
    is not a riskgraph model export) or :class:`UsageError` (missing file)."""
    if not path.is_file():
        raise UsageError(f"{path} not found", "pass a file written by `riskgraph calibrate "
                         "--export`")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path} is not JSON: {exc}", "pass a file written by "
                        "`riskgraph calibrate --export`") from exc
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise DataError(f"{path} is not a riskgraph model export",
                        "pass a file written by `riskgraph calibrate --export`")
    if doc.get("format_version") != EXPORT_FORMAT_VERSION:
        raise DataError(f"{path}: model export format {doc.get('format_version')!r} is not "
                        f"{EXPORT_FORMAT_VERSION}", "export it again with this version")
    if not isinstance(doc.get("model"), dict):
        raise DataError(f"{path} holds no model", "export it again")
    try:
        model = ModelVersion.from_dict(doc["model"])
    except (TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"{path} holds no usable model: {exc}", "export it again") from exc
    unknown = sorted(set(model.features) - set(known_features))
    if unknown:
        raise DataError(f"{path}: the model uses features this version does not compute: "
                        f"{', '.join(unknown)}", "export a model fitted by this version")
    if model.kind == "lgbm":
        try:
            model.booster_models()
        except Exception as exc:  # LightGBM raises its own error types on bad model text
            raise DataError(f"{path}: the tree model's boosters do not load: {exc}",
                            "export it again") from exc
    elif not model.weights:
        raise DataError(f"{path}: the noisy-OR model has no weights", "export it again")
    return model


def import_model(driver: Driver, model: ModelVersion, source: str,
                 database: str | None = None) -> str | None:
    """Store ``model`` (a checked export, :func:`read_export`) and make it the active one; the
    version it replaces becomes its parent here and stays stored for ``--rollback``. Importing
    the same export twice stores it once. Returns the version that was active before."""
    before = active_model(driver, database)
    model.params = {**model.params, "imported": {"from": source, "at": stamp(),
                                                 "parent_there": model.parent_version}}
    model.parent_version = before.version_id if before is not None else None
    save(driver, model, activate=True, database=database)
    return model.parent_version
