"""`onemind sync` loads the connectors of the sources it syncs before it starts; one that cannot
load still fails its own source only, as any failure of a source does."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest
from cli_run import onemind
from test_sync import COMPLETIONS, ROSTER, SETTINGS

from onemind.config.model import SourceConfig
from onemind.connectors import registry
from onemind.connectors.base import Connector


def test_a_connector_that_cannot_load_fails_its_source_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(COMPLETIONS)
    config = tmp_path / "onemind.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "onemind.db"}"\n{SETTINGS}')
    assert onemind(capsys, "--config", str(config), "init")[0] == 0
    loads = registry.connector_class

    def missing_library(source: SourceConfig) -> type[Connector]:
        if source.name == "completions":
            raise ImportError("No module named 'vendor_sdk'")
        return loads(source)

    monkeypatch.setattr(registry, "connector_class", missing_library)
    code, out, _ = onemind(capsys, "--config", str(config), "sync", "--json")
    assert code == 1
    outcome = {s["source"]: s for s in json.loads(out)["sources"]}
    assert outcome["roster"]["status"] == "succeeded" and outcome["roster"]["new"] == 5
    assert outcome["completions"]["status"] == "failed"
    assert "vendor_sdk" in outcome["completions"]["error"]
    assert gc.isenabled()
