"""Alembic environment: the engine comes from onemind, never from an ini file."""

from typing import Any

from alembic import context

from onemind.store.models import Base, declared_on

engine = context.config.attributes["engine"]


def include_object(item: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
    """Leave to autogenerate only what this backend's database holds (see `declared_on`)."""
    return reflected or declared_on(engine.dialect.name, item)


with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
