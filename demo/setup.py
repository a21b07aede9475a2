"""Lay out the bundled sample data and its configuration in a folder of the user's."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

DATA_FILES = ("roster.csv", "completions.csv", "statements.json")
CONFIG_NAME = "onemind.toml"


def prepare_demo(directory: Path) -> Path:
    """Copy the sample data and write the demo configuration; returns the configuration's path."""
    data = directory / "data"
    data.mkdir(parents=True, exist_ok=True)
    bundled = resources.files("onemind.demo") / "data"
    for name in DATA_FILES:
        with resources.as_file(bundled / name) as source:
            shutil.copyfile(source, data / name)
    config = directory / CONFIG_NAME
    config.write_text((bundled / "onemind.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return config
