"""The command context opens the store one way: current, or migrated when asked."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from onemind.cli.context import Context
from onemind.errors import StoreError
from onemind.store.models import Agency

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def context(tmp_path: Path) -> Context:
    config = tmp_path / "onemind.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "store.db"}"\n')
    return Context(str(config), False, lambda: NOW)


def test_sessions_need_a_current_store_unless_migrating(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    with pytest.raises(StoreError, match="run 'onemind init'"):
        ctx.sessions()
    with ctx.sessions(migrate=True)() as session:
        assert session.execute(text("select count(*) from agency")).scalar() == 0
    with ctx.sessions()() as session:
        assert session.execute(text("select count(*) from agency")).scalar() == 0


def test_dry_run_transaction_rolls_back(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    ctx.engine(migrate=True)
    with ctx.transaction(dry_run=True) as session:
        session.add(Agency(id="a", name="A"))
    with ctx.transaction() as session:
        assert session.get(Agency, "a") is None
        session.add(Agency(id="a", name="A"))
    with ctx.transaction() as session:
        assert session.get(Agency, "a") is not None


@pytest.mark.parametrize(("as_of", "day"), [(None, date(2026, 11, 26)), (date(2025, 1, 2),) * 2])
def test_today_is_as_of_or_the_clock(tmp_path: Path, as_of: date | None, day: date) -> None:
    assert context(tmp_path).today(as_of) == day
