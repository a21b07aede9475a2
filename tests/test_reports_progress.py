"""Long batches (reports for many agencies, certificate exports) tell their progress."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker
from test_certificates import make_settings, sync
from test_reports import AS_OF, synced  # noqa: F401  (the fixture)

from onemind.certificates import files
from onemind.cli.progress import progress_bar
from onemind.config import Settings
from onemind.reports.batch import write_reports
from onemind.store.db import transaction
from onemind.store.models import Agency


def test_writing_reports_for_several_agencies_tells_each_one_done(
    synced: Settings,  # noqa: F811
    sessions: sessionmaker[Session],
    now: datetime,
    tmp_path: Path,
) -> None:
    with transaction(sessions) as session:
        session.add(Agency(id="b-pd", name="B Police Department", program="one-mind"))
    told: list[tuple[int, int]] = []
    paths = write_reports(
        synced, sessions, tmp_path / "out", AS_OF, now, progress=lambda *a: told.append(a)
    )
    assert told == [(1, 2), (2, 2)] and len(paths) == 6


def test_a_certificate_export_tells_each_credential_written(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = make_settings(tmp_path)
    sync(settings, sessions, now)
    assert settings.certificates is not None
    told: list[tuple[int, int]] = []
    with sessions() as session:
        count = files.export(
            session, settings.certificates, tmp_path / "out", lambda *a: told.append(a)
        )
    assert count == 3 and told == [(1, 3), (2, 3), (3, 3)]


def test_the_bar_is_drawn_on_a_terminal_only() -> None:
    piped = Console(file=io.StringIO(), force_terminal=False)
    with progress_bar("writing reports", piped) as progress:
        assert progress is None
    assert piped.file.getvalue() == ""  # type: ignore[attr-defined]

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=80)
    with progress_bar("writing reports", terminal) as progress:
        assert progress is not None
        progress(1, 4)
        terminal.print("")
    assert "writing reports" in screen.getvalue() and "1/4" in screen.getvalue()
