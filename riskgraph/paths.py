"""Checks of the paths a command is given (exit 2 before anything is done).

A path argument that does not exist, is of the wrong kind or cannot be read is bad usage
(``shared/spec/interfaces.md``: exit 2), so commands check it with these helpers before they
connect to the database or start any work; the message names the path and the hint says what
to pass.
"""

from __future__ import annotations

import os
from pathlib import Path

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
