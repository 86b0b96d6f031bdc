"""Checks of the paths a command is given (exit 2 before anything is done), and the atomic
JSON writes of run reports.

A path argument that does not exist, is of the wrong kind or cannot be read is bad usage
(``shared/spec/interfaces.md``: exit 2), so commands check it with these helpers before they
connect to the database or start any work; the message names the path and the hint says what
to pass. The same holds for an output (``--out``): a file or folder that cannot be written,
is of the wrong kind, or whose missing folders cannot be made. Missing folders of an output
are not made by the check (the command makes them when it writes, as it always did).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from riskgraph.errors import UsageError


def existing_folder(path: Path | str, what: str, hint: str) -> Path:
    """``path`` made absolute, when it is a folder this process can list; else UsageError.

    ``what`` names the argument in the message (``"inbox"``, ``"truth folder"``)."""
    folder = Path(path).absolute()
    if not folder.exists():
        raise UsageError(f"{what} {folder} does not exist", hint)
    if not folder.is_dir():
        raise UsageError(f"{what} {folder} is not a folder", hint)
    if not os.access(folder, os.R_OK | os.X_OK):
        raise UsageError(f"{what} {folder} cannot be read (permission denied)", hint)
    return folder


def readable_file(path: Path | str, what: str, hint: str) -> Path:
    """``path`` made absolute, when it is a file this process can read; else UsageError."""
    file = Path(path).absolute()
    if not file.exists():
        raise UsageError(f"{what} {file} does not exist", hint)
    if not file.is_file():
        raise UsageError(f"{what} {file} is not a file", hint)
    if not os.access(file, os.R_OK):
        raise UsageError(f"{what} {file} cannot be read (permission denied)", hint)
    return file


def writable_file(path: Path | str, what: str, hint: str) -> Path:
    """``path`` made absolute, when this process can write the file there: an existing file
    it may write, or a new one in a folder it may write or create; else UsageError."""
    file = Path(path).absolute()
    if file.is_dir():
        raise UsageError(f"{what} {file} is a folder, not a file", hint)
    if file.exists() and not os.access(file, os.W_OK):
        raise UsageError(f"{what} {file} cannot be written (permission denied)", hint)
    _creatable_folder(file.parent, what, file, hint)
    return file


def writable_folder(path: Path | str, what: str, hint: str) -> Path:
    """``path`` made absolute, when this process can write into that folder: an existing one
    it may write, or a new one it may create; else UsageError."""
    folder = Path(path).absolute()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{what} {folder} is not a folder", hint)
    _creatable_folder(folder, what, folder, hint)
    return folder


def _creatable_folder(folder: Path, what: str, target: Path, hint: str) -> None:
    """UsageError unless ``folder`` is a folder this process may write into, or can be made:
    its nearest existing ancestor is a folder this process may write into."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{what} {target} cannot be made: {existing} is not a folder", hint)
    if not os.access(existing, os.W_OK | os.X_OK):
        where = "" if existing == target else f": {existing}"
        raise UsageError(f"{what} {target} cannot be written{where} (permission denied)", hint)


def _write_text(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def write_json_atomic(path: Path, data: Any) -> Path:
    """Write ``data`` as indented UTF-8 JSON to ``path`` atomically: into a temporary file
    beside it, then renamed over it, so a reader (or a crash) sees the old file or the new
    one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _write_text(tmp, json.dumps(data, ensure_ascii=False, indent=2))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
