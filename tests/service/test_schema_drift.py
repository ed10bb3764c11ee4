"""The migrations build exactly the schema the models declare (no drift either way)."""
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import service.models  # noqa: F401  (registers every table on the metadata)
from service.models.base import Base


def test_migrations_match_the_models(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'drift.db'}"
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    cfg = Config("service/alembic.ini")
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "heads")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"
