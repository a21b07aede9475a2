"""Personal data on disk is owner-only (files 0600, folders 0700) whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from onemind.demo.setup import DATA_FILES, prepare_demo
from onemind.reports.rendered import Rendered, write
from onemind.store.db import make_engine, upgrade


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022, 0o002], ids=["umask-000", "umask-022", "umask-002"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under a permissive umask, so only the modes we give can protect the data."""
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def test_a_new_sqlite_store_and_its_folders_are_owner_only(umask: int, tmp_path: Path) -> None:
    path = tmp_path / "state" / "onemind" / "onemind.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE probe (x INTEGER)"))
        assert mode(path.with_name("onemind.db-wal")) == 0o600
        assert mode(path.with_name("onemind.db-shm")) == 0o600
    engine.dispose()
    assert mode(path) == 0o600
    assert mode(path.parent) == mode(path.parent.parent) == 0o700


def test_an_in_memory_store_creates_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for url in ("sqlite://", "sqlite:///:memory:"):
        with make_engine(url).connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    assert list(tmp_path.iterdir()) == []


def rendered() -> Rendered:
    files = {"a-pd.html": b"<p>Ann Lee</p>", "a-pd-people.csv": b"name\r\nAnn Lee\r\n"}
    return Rendered("agency", "a-pd", date(2026, 11, 26), "on-track", "s", "t", "h", files)


def test_written_reports_and_their_new_folder_are_owner_only(umask: int, tmp_path: Path) -> None:
    paths = write(rendered(), tmp_path / "out" / "reports")
    assert [p.name for p in paths] == ["a-pd.html", "a-pd-people.csv"]
    assert [mode(p) for p in paths] == [0o600, 0o600]
    assert mode(tmp_path / "out") == mode(tmp_path / "out" / "reports") == 0o700
    assert paths[1].read_bytes() == b"name\r\nAnn Lee\r\n"


def test_an_existing_folder_keeps_its_mode_and_an_old_report_is_replaced(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o750)
    shared.chmod(0o750)
    (shared / "a-pd.html").write_bytes(b"old")
    (shared / "a-pd.html").chmod(0o644)
    write(rendered(), shared)
    assert mode(shared) == 0o750 and mode(shared / "a-pd.html") == 0o600
    assert (shared / "a-pd.html").read_bytes() == b"<p>Ann Lee</p>"
    assert sorted(p.name for p in shared.iterdir()) == ["a-pd-people.csv", "a-pd.html"]


def test_the_demo_folder_and_its_rosters_are_owner_only(umask: int, tmp_path: Path) -> None:
    config = prepare_demo(tmp_path / "onemind-demo")
    assert mode(config.parent) == mode(config.parent / "data") == 0o700
    assert [mode(config.parent / "data" / name) for name in DATA_FILES] == [0o600] * 3
