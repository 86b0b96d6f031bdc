"""Process-wide caches of check-character validation (codes repeat across tables)."""

from __future__ import annotations

from functools import lru_cache

from riskgraph import identifiers

is_valid_uscc = lru_cache(maxsize=1 << 20)(identifiers.is_valid_uscc)
is_valid_regno = lru_cache(maxsize=1 << 16)(identifiers.is_valid_regno)
is_valid_citizen_id = lru_cache(maxsize=1 << 20)(identifiers.is_valid_citizen_id)
