"""Path arguments are checked before a command does anything (riskgraph.paths)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from riskgraph.errors import UsageError
from riskgraph.paths import existing_folder, readable_file, writable_file, writable_folder


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


def deny_access(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    """``os.access`` says no for ``paths`` (as root, which may do anything, the refusal an
    ordinary user would meet is simulated), and asks the real one for every other path."""
    denied = {str(p.absolute()) for p in paths}
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, *a, **k:
                        str(path) not in denied and real_access(path, mode, *a, **k))


def test_unreadable_paths_are_usage_errors(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths this process may not read (``os.access`` says no: as root, which reads
    everything, the refusal an ordinary user would meet is simulated)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("x", encoding="utf-8")
    deny_access(monkeypatch, locked, secret)
    with pytest.raises(UsageError, match="cannot be read"):
        existing_folder(locked, "inbox", "h")
    with pytest.raises(UsageError, match="cannot be read"):
        readable_file(secret, "backup file", "h")
    assert existing_folder(tmp_path, "inbox", "h") == tmp_path.absolute()  # others still read


def test_outputs_that_can_be_written_or_made(tmp_path: Path) -> None:
    """An existing file or folder, or a new one whose missing folders can be made; the check
    makes nothing itself (the command makes the folders when it writes)."""
    existing = tmp_path / "old.csv"
    existing.write_text("x", encoding="utf-8")
    assert writable_file(existing, "output file", "h") == existing.absolute()
    assert writable_file(tmp_path / "new.csv", "output file", "h") == tmp_path / "new.csv"
    deep = tmp_path / "a" / "b" / "scores.csv"
    assert writable_file(deep, "output file", "h") == deep
    assert writable_folder(tmp_path, "output folder", "h") == tmp_path.absolute()
    assert writable_folder(tmp_path / "c" / "d", "output folder", "h") == tmp_path / "c" / "d"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.csv"]


def test_outputs_of_the_wrong_kind_are_usage_errors(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    a_folder = tmp_path / "a-folder"
    a_folder.mkdir()
    for call, arg, words in (
            (writable_file, a_folder, f"output {a_folder} is a folder, not a file"),
            (writable_folder, a_file, f"output {a_file} is not a folder"),
            (writable_file, a_file / "sub" / "x.csv",
             f"cannot be made: {a_file} is not a folder"),
            (writable_folder, a_file / "reports", f"cannot be made: {a_file} is not a folder")):
        with pytest.raises(UsageError) as info:
            call(arg, "output", "pass a place you may write")
        assert words in info.value.message
        assert info.value.exit_code == 2 and info.value.hint == "pass a place you may write"


def test_outputs_that_cannot_be_written_are_usage_errors(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A file, a folder or the nearest existing folder of a missing one that this process may
    not write (``os.access`` says no: as root the refusal is simulated, as above)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    frozen = tmp_path / "frozen.csv"
    frozen.write_text("x", encoding="utf-8")
    deny_access(monkeypatch, locked, frozen)
    for call, arg, words in (
            (writable_file, frozen, f"{frozen} cannot be written (permission denied)"),
            (writable_file, locked / "x.csv", f"cannot be written: {locked} (permission"),
            (writable_file, locked / "new" / "x.csv", f"cannot be written: {locked} (perm"),
            (writable_folder, locked, f"{locked} cannot be written (permission denied)"),
            (writable_folder, locked / "new", f"cannot be written: {locked} (permission")):
        with pytest.raises(UsageError) as info:
            call(arg, "output", "h")
        assert words in info.value.message, info.value.message
    assert writable_file(tmp_path / "x.csv", "output", "h") == tmp_path / "x.csv"
