"""`hotline` command line.

Each area registers its sub-commands here by module path; a module is imported only when its
command runs, so `hotline policy ...` works in either environment without the service's deps.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# command -> (module with `register(subparsers)` and `run(args)`, help text)
COMMANDS = {
    "policy": ("policy_kb.cli", "evaluate households against the 20 measures"),
    "user": ("service.cli_users", "manage service accounts"),
    "screen": ("screening.cli", "screen a low-income register for unclaimed entitlements"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="hotline", description="12345 社会救助热线助手")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0
    name = argv[0]
    if name not in COMMANDS:
        parser.error(f"unknown command {name!r}")
    module = importlib.import_module(COMMANDS[name][0])
    sub_parser = argparse.ArgumentParser(prog=f"hotline {name}")
    module.register(sub_parser)
    args = sub_parser.parse_args(argv[1:])
    return int(module.run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
