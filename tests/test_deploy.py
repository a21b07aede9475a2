"""The deployment files: docker-compose.yml and the systemd units run commands that exist, on
the configuration shipped beside them (no Docker engine here: the compose file is read as YAML)."""

from __future__ import annotations

import configparser
import tomllib
from pathlib import Path

import pytest
import yaml

from onemind.cli import cli
from onemind.config import parse_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_runs_the_store_the_broker_the_scheduler_workers_and_the_web_app() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "init", "scheduler", "worker", "web"} <= set(services)
    assert services["scheduler"]["command"][0] == "serve"
    assert services["worker"]["command"][0] == "worker"
    assert services["worker"]["deploy"]["replicas"] >= 2
    for name in ("scheduler", "worker", "web"):
        assert services[name]["depends_on"]["init"]["condition"] == (
            "service_completed_successfully"
        )


@pytest.mark.parametrize("service", ["init", "scheduler", "worker", "web"])
def test_compose_commands_exist(service: str) -> None:
    command = compose()["services"][service]["command"][0]
    assert command in cli.commands


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_systemd_units_start_onemind_commands(unit: Path) -> None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read(unit, encoding="utf-8")
    start = parser["Service"]["ExecStart"].split()
    assert start[0].endswith("/onemind")
    assert start[1] in cli.commands
    assert parser["Service"]["Environment"] == "ONEMIND_CONFIG=/etc/onemind/onemind.toml"


def test_the_shipped_configuration_is_valid_and_enqueues_for_workers() -> None:
    path = ROOT / "deploy" / "onemind.toml"
    environ = {"ONEMIND_STORE_URL": "postgresql+psycopg://onemind:x@postgres/onemind"}
    settings = parse_settings(tomllib.loads(path.read_text(encoding="utf-8")), path, environ)
    assert settings.workers is not None and settings.workers.broker.startswith("redis://redis")
