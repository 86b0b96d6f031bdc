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
from dataclasses import dataclass
from typing import Any

from neo4j import Driver, ManagedTransaction

from analytics.calibration import ModelVersion
from graph import cypher
from riskgraph.errors import RejectedError
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
