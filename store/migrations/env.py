"""Alembic environment: the engine comes from onemind, never from an ini file."""

from typing import Any

from alembic import context

from onemind.store.models import Base, declared_on

engine = context.config.attributes["engine"]


def include_object(item: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
    """Leave to autogenerate only what this backend's database holds (see `declared_on`)."""
    return reflected or declared_on(engine.dialect.name, item)


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # batch mode makes tables again, which a referenced table's keys would forbid
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            include_object=include_object,
        )
        before = context.get_context().get_current_heads()
        with context.begin_transaction():
            context.run_migrations()
        # every key checked, only when a migration ran: reading a hub's store takes seconds
        if sqlite and context.get_context().get_current_heads() != before:
            dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if dangling:
                raise RuntimeError(f"the migrations left rows naming missing rows: {dangling}")
        connection.commit()
    finally:
        if sqlite:  # the pooled connection checks its keys again, whatever happened
            connection.rollback()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
