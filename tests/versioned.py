"""Sequence numbers and validity ranges for test graphs written without the scoring engine.

A scoring run writes versioned ScoreRecords (``from_seq`` … ``to_seq``, see
:func:`graph.cypher.valid_at`); a test graph that writes a full copy of the records per run
gives run *i* the sequence number ``first + i`` and makes each copy valid until the next run
(the last run's stay current).
"""

from __future__ import annotations

from collections.abc import Sequence

from graph.cypher import OPEN_SEQ


def ranges(run_ids: Sequence[str], first: int = 1) -> dict[str, dict[str, int]]:
    """Run id → ``{"seq", "from_seq", "to_seq"}`` for runs holding full copies, in order."""
    out = {}
    for i, run_id in enumerate(run_ids):
        seq = first + i
        until = first + i + 1 if i + 1 < len(run_ids) else OPEN_SEQ
        out[run_id] = {"seq": seq, "from_seq": seq, "to_seq": until}
    return out
