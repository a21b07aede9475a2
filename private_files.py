"""Files holding personal data, created readable by their owner only (0600, folders 0700).

The modes are given when a file or folder is created, so no umask can widen them. A file
written again is replaced by a new one, so an older world-readable copy does not keep its
mode; a folder that exists keeps its mode. Imports nothing of the project.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Create the folder and its missing parents, each 0700; returns `path`."""
    for folder in reversed([path, *path.parents]):
        if not folder.exists():
            folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
    return path


def write_private(path: Path, content: bytes) -> Path:
    """Replace the file with a new one holding `content`, made 0600 before any byte goes in."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with open(descriptor, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def create_private(path: Path) -> None:
    """Create the file empty (0600, in private folders) unless it exists."""
    private_folder(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        return
