"""`hotline user ...`: manage service accounts (contract §4).

    hotline user add NAME --role admin|agent|county [--county 西吉县] --password P
    hotline user add NAME --role agent --password-stdin      (keeps the password out of `ps`)
    hotline user list
    hotline user disable NAME

Uses HOTLINE_DATABASE_URL (default: SQLite under var/) and runs the migrations first.
"""
from __future__ import annotations

import argparse
import sys


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["admin", "agent", "county"])
    add.add_argument("--county", help="canonical name or alias of the officer's county (role county)")
    pw = add.add_mutually_exclusive_group(required=True)
    pw.add_argument("--password")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    sub.add_parser("list", help="list accounts")
    dis = sub.add_parser("disable", help="disable an account (its tokens stop working)")
    dis.add_argument("name")


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from service.core.config import Settings
    from service.core.db import Database, migrate
    from service.models.user import User
    from service.services.users import UserError, add_user, check_new_user

    settings = Settings()
    if args.action == "add":
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else args.password
        try:  # check before touching the database, so a typo changes nothing
            check_new_user(args.name, args.role, args.county, password)
        except UserError as exc:
            print(f"hotline user add: {exc}", file=sys.stderr)
            return 2
    migrate(settings.database_url)
    db = Database(settings.database_url)
    try:
        with db.sessionmaker() as session:
            if args.action == "add":
                try:
                    user = add_user(session, args.name, args.role, password, args.county)
                except UserError as exc:
                    print(f"hotline user add: {exc}", file=sys.stderr)
                    return 1
                where = f" ({user.county})" if user.county else ""
                print(f"created {user.username}: role {user.role}{where}")
            elif args.action == "list":
                for u in session.scalars(select(User).order_by(User.username)):
                    state = "" if u.is_active else " [disabled]"
                    print(f"{u.username}\t{u.role}\t{u.county or '-'}{state}")
            elif args.action == "disable":
                user = session.scalar(select(User).where(User.username == args.name))
                if user is None:
                    print(f"hotline user disable: no user {args.name!r}", file=sys.stderr)
                    return 1
                user.is_active = False
                session.commit()
                print(f"disabled {args.name}")
    finally:
        db.dispose()
    return 0
