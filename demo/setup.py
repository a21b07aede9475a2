"""Lay out the bundled sample data and its configuration in a folder of the user's."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from onemind.private_files import private_folder, write_private

DATA_FILES = ("roster.csv", "completions.csv", "statements.json")
CONFIG_NAME = "onemind.toml"


def prepare_demo(directory: Path) -> Path:
    """Copy the sample data and write the demo configuration; returns the configuration's path.

    The folders are made 0700 and the rosters 0600, like the database and reports put there.
    """
    data = private_folder(directory / "data")
    bundled = resources.files("onemind.demo") / "data"
    for name in DATA_FILES:
        write_private(data / name, (bundled / name).read_bytes())
    config = directory / CONFIG_NAME
    config.write_text((bundled / "onemind.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return config
