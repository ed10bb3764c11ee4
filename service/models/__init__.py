"""SQLAlchemy 2 typed models. Every table is created by an Alembic migration, never create_all.

Another area adds a model in its own module (here as `service/models/<name>.py`, or anywhere it
likes) deriving from `Base`, and a migration for its tables (see service/README.md).
"""
from __future__ import annotations

import importlib
import pkgutil

from service.models.base import Base, UTCDateTime, utcnow  # noqa: F401


def load_all_models() -> None:
    """Import every module of this package so Base.metadata knows all tables (for Alembic)."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
