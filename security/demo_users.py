"""Demo accounts for ``make demo``: ``python -m security.demo_users``.

Creates, only when missing, one account per main role of the demo city — ``demo-city``
(city), ``demo-county`` (the city's first county, e.g. 文峰区 410502) and ``demo-admin``
(admin) — each with a generated password, exactly as ``riskgraph users add … --password-stdin``
would (same :func:`security.users.add_user`, same ``user_add`` audit row, actor
``cli:demo``). New passwords are appended to ``RISKGRAPH_HOME/secrets/demo_users.txt``
(mode 0600, next to the hash key, outside the repository) and printed once; accounts that
already exist are left untouched and their passwords are not printed again.

For demonstrations only; real deployments add named accounts with ``riskgraph users add``.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from neo4j import Driver

from riskgraph.divisions import divisions
from riskgraph.settings import Settings, load_settings
from security import audit, users

FILE_NAME = "demo_users.txt"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    counties: tuple[str, ...]
    password: str | None
    """The new password (None when the account already existed)."""


def demo_file(settings: Settings) -> Path:
    return settings.secrets_dir / FILE_NAME


def wanted(settings: Settings) -> list[tuple[str, str, tuple[str, ...]]]:
    """(username, role, counties) of the demo accounts of ``settings.city``."""
    counties = divisions().counties(settings.city)
    first = (counties[0].code,) if counties else ()
    return [("demo-city", "city", ()), ("demo-county", "county", first),
            ("demo-admin", "admin", ())]


def _append(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, "".join(lines).encode("utf-8"))
    finally:
        os.close(fd)
    os.chmod(path, 0o600)


def ensure_demo_users(driver: Driver, settings: Settings) -> list[DemoAccount]:
    """Create the missing demo accounts; returns every demo account (password only for new
    ones), after writing the new passwords to :func:`demo_file`."""
    out: list[DemoAccount] = []
    lines: list[str] = []
    for username, role, counties in wanted(settings):
        if users.get_user(driver, username) is not None:
            out.append(DemoAccount(username, role, counties, None))
            continue
        password = secrets.token_urlsafe(12)
        user = users.add_user(driver, settings, username, role, password, counties)
        audit.record(driver, "user_add", user="cli:demo", role="cli", target=username,
                     detail={"role": role, "counties": list(user.counties), "demo": True})
        out.append(DemoAccount(username, role, user.counties, password))
        lines.append(f"{username}\t{role}\t{','.join(user.counties) or '-'}\t{password}\n")
    if lines:
        _append(demo_file(settings), lines)
    return out


def main() -> int:
    from graph.connection import connect
    from graph.schema import apply_schema

    settings = load_settings()
    driver = connect(settings)
    try:
        apply_schema(driver, settings.neo4j_database)
        accounts = ensure_demo_users(driver, settings)
    finally:
        driver.close()
    new = [a for a in accounts if a.password]
    path = demo_file(settings)
    if new:
        print("demo accounts created (shown once; also in "
              f"{path}, mode 0600):")
        for a in new:
            print(f"  {a.username:12s} {a.role:7s} {','.join(a.counties) or '-':7s} "
                  f"password: {a.password}")
    else:
        print(f"demo accounts exist: {', '.join(a.username for a in accounts)} "
              f"(passwords in {path})")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
