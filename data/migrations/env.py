"""Alembic environment: one connection, from `data.migrate` or from Settings."""

from __future__ import annotations

from alembic import context

from data.schema import metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # plain `alembic ...` from a developer's shell
    from data.db import make_engine
    from settings import load_settings

    with make_engine(load_settings().database_url).begin() as conn:
        _run(conn)
