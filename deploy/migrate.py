"""One-shot job before the service replicas start (deploy/docker-compose.yml `migrate`):
the schema to every Alembic head, and `admin` from HOTLINE_ADMIN_PASSWORD if missing.
Replicas then run with HOTLINE_RUN_MIGRATIONS=false, so they never race through Alembic."""
from __future__ import annotations

from service.core.config import Settings
from service.core.db import Database, migrate
from service.services.users import ensure_admin


def main() -> int:
    settings = Settings()
    migrate(settings.database_url)
    db = Database(settings.database_url)
    with db.sessionmaker() as session:
        ensure_admin(session, settings.admin_password.get_secret_value() if settings.admin_password else None)
    db.dispose()
    print("migrated:", settings.database_url.split("@")[-1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
