"""Shared by every test suite: keep it small (area fixtures live in tests/<area>/conftest.py)."""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


# Starlette's TestClient nags about httpx (it works; requirements pin httpx<1). Set here, before
# any area's conftest imports the TestClient.
warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient.*")
