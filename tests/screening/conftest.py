from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

AS_OF = date(2022, 7, 1)  # inside the document's validity
ROOT = Path(__file__).resolve().parents[2]


def hotline(*args, check=True, **kwargs) -> subprocess.CompletedProcess:
    """Runs the real `hotline` command line in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-m", "hotline.cli", *map(str, args)],
        capture_output=True, text=True, cwd=ROOT, **kwargs,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"hotline {args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def registers(tmp_path_factory):
    """A 400-household synthetic register as CSV and Parquet, with its Facts."""
    from screening.synth import households, write_register

    d = tmp_path_factory.mktemp("registers")
    write_register(d / "reg.csv", 400, seed=7)
    write_register(d / "reg.parquet", 400, seed=7)
    return {"csv": d / "reg.csv", "parquet": d / "reg.parquet", "facts": list(households(400, seed=7))}
