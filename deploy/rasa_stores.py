"""Rasa's SQL tracker store with `pool_pre_ping` (deploy/rasa/endpoints.yml uses it).

Rasa 3.6's SQLTrackerStore builds its engine without a liveness check, so after PostgreSQL restarts
(or drops connections) the first turn of each pooled connection fails; Rasa's fail-safe wrapper then
keeps that turn in the server's memory only and it is missing from the shared store afterwards
(tests/prod/test_faults.py showed it). Pinging a connection at checkout reconnects instead.

Loaded by Rasa as `deploy.rasa_stores.PingingSQLTrackerStore` (the repository root on PYTHONPATH);
everything else — tables, login_db, pool sizes (SQL_POOL_SIZE, SQL_MAX_OVERFLOW) — is Rasa's own.
"""
from __future__ import annotations

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs


class PingingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url  # the working database (after login_db created it)
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
