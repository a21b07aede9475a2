"""What every command is handed: the configuration, the clock, the store and the acting user."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used, so that `onemind --help` starts fast
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from onemind.config import Settings

EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass
class Context:
    """The `onemind` options every command shares, and the one way commands open the store."""

    config: str | None
    debug: bool
    now: Callable[[], datetime]
    _settings: Settings | None = field(default=None, init=False, repr=False)
    _engines: list[Engine] = field(default_factory=list, init=False, repr=False)

    def settings(self) -> Settings:
        """The configuration, loaded once.

        Raises:
            ConfigurationError: the file is missing or invalid.
        """
        if self._settings is None:
            from onemind.config import config_path, load_settings

            self._settings = load_settings(config_path(self.config))
        return self._settings

    def today(self, as_of: date | None) -> date:
        """The date a command works for: `--as-of`, else today."""
        return self.now().date() if as_of is None else as_of

    def engine(self, migrate: bool = False) -> Engine:
        """The configured store: migrated to the newest schema, or required to be current.

        Raises:
            StoreError: unreachable, or (without `migrate`) `onemind init` is needed.
        """
        from onemind.store.db import open_engine

        engine = open_engine(self.settings().store.url, migrate)
        self._engines.append(engine)
        return engine

    def sessions(self, migrate: bool = False) -> sessionmaker[Session]:
        """Sessions on the configured store (see `engine`)."""
        from onemind.store.db import session_factory

        return session_factory(self.engine(migrate))

    def close(self) -> None:
        """Close the store connections the command opened, as it ends (SQLite then folds its
        write-ahead log back into the database), rather than leave them to the exit."""
        for engine in self._engines:
            engine.dispose()
        self._engines.clear()

    @contextmanager
    def transaction(self, dry_run: bool = False) -> Iterator[Session]:
        """A transaction on the store that commits, or rolls back for a dry run."""
        with self.sessions()() as session:
            session.begin()
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            if dry_run:
                session.rollback()
            else:
                session.commit()


def author() -> str:
    """Who is acting, as a rule change records it."""
    return os.environ.get("ONEMIND_USER") or getpass.getuser()
