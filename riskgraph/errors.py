"""The one exception root of riskgraph.

Every error the product raises on purpose derives from :class:`RiskgraphError`. Each carries
the process exit code the CLI uses (see ``shared/spec/interfaces.md``) and a one-line hint that
tells the operator what to do. Only the CLI edge turns them into exit codes.
"""

from __future__ import annotations


class RiskgraphError(Exception):
    """Root of all riskgraph errors. ``exit_code`` 3 = stopped by a failure."""

    exit_code = 3

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(RiskgraphError):
    """Bad usage or settings (exit 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """A setting is missing or wrong (exit 2)."""


class RejectedError(RiskgraphError):
    """The job finished, but something was rejected or failed a check (exit 1)."""

    exit_code = 1


class DatabaseError(RiskgraphError):
    """The graph database could not be reached, started or queried (exit 3)."""


class DataError(RiskgraphError):
    """Input data cannot be used at all (unreadable file, missing required columns)."""

    exit_code = 1
