"""The county office's working tools: the risk ledger (风险台账), monthly reports, hand-offs.

* :mod:`workflow.statuses` — the ledger statuses, the declared transition table, reason codes.
* :mod:`workflow.ledger` — entries, ``sync_ledger``, transitions, history, outcomes, overdue.
* :mod:`workflow.reports` — the monthly report to the city (DOCX + XLSX).
* :mod:`workflow.handoff` — the cross-region hand-off package (DOCX + JSON) and its status.
* :mod:`workflow.ui` — Streamlit render functions mounted by the dashboard.

All Cypher lives in the ``# --- workflow ---`` section of :mod:`graph.cypher`.
"""
