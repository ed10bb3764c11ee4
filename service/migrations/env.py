"""Alembic environment: the URL comes from the caller (service.core.db.migrate) or Settings."""
from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from service.models import Base, load_all_models

config = context.config
load_all_models()
target_metadata = Base.metadata


def url() -> str:
    configured = config.get_main_option("sqlalchemy.url")
    if configured:
        return configured
    from service.core.config import Settings

    return Settings().database_url


def run_offline() -> None:
    context.configure(url=url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    section = dict(config.get_section(config.config_ini_section) or {})
    section["sqlalchemy.url"] = url()
    engine = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
