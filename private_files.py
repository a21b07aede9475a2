"""Files holding personal data, created readable by their owner only (0600, folders 0700).

The modes are given when a file or folder is created, so no umask can widen them; what already
exists keeps the mode it has (an operator who opened a folder up on purpose is not overruled).
Imports nothing of the project.
"""

from __future__ import annotations

import os
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
    """Write `content` to the file, creating it 0600 if it is new; returns `path`."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with open(descriptor, "wb") as handle:
        handle.write(content)
    return path


def create_private(path: Path) -> None:
    """Create the file empty (0600, in private folders) unless it exists."""
    private_folder(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        return
