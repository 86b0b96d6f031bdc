"""Path arguments are checked before a command does anything (riskgraph.paths)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from riskgraph.errors import UsageError
from riskgraph.paths import existing_folder, readable_file


def test_existing_folder_and_readable_file(tmp_path: Path) -> None:
    file = tmp_path / "f.txt"
    file.write_text("x", encoding="utf-8")
    assert existing_folder(tmp_path, "inbox", "h") == tmp_path.absolute()
    assert readable_file(file, "backup file", "h") == file.absolute()
    for call, arg, words in ((existing_folder, tmp_path / "nope", "does not exist"),
                             (existing_folder, file, "is not a folder"),
                             (readable_file, tmp_path / "nope", "does not exist"),
                             (readable_file, tmp_path, "is not a file")):
        with pytest.raises(UsageError, match=words) as info:
            call(arg, "thing", "pass a thing")
        assert info.value.exit_code == 2 and info.value.hint == "pass a thing"


def test_unreadable_paths_are_usage_errors(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths this process may not read (``os.access`` says no: as root, which reads
    everything, the refusal an ordinary user would meet is simulated)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("x", encoding="utf-8")
    denied = {str(locked.absolute()), str(secret.absolute())}
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, *a, **k:
                        str(path) not in denied and real_access(path, mode, *a, **k))
    with pytest.raises(UsageError, match="cannot be read"):
        existing_folder(locked, "inbox", "h")
    with pytest.raises(UsageError, match="cannot be read"):
        readable_file(secret, "backup file", "h")
    assert existing_folder(tmp_path, "inbox", "h") == tmp_path.absolute()  # others still read
