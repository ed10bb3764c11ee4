"""Fixture factories shared by the outside client's test modules (one service mode per module)."""
from __future__ import annotations

import pytest

from tests.wechat_outside.wechat_client import Platform


def platform(mode: str, speaks: str | None = None):
    """A module's `wechat` fixture: the service started in `mode`, spoken to as a `speaks` account
    (by default the same mode)."""

    @pytest.fixture(scope="module")
    def wechat(runner):
        runner.ensure(mode)
        p = Platform(speaks or mode)
        yield p
        p.close()

    return wechat


@pytest.fixture
def fresh(upstream):
    """The stand-in Rasa and WeChat API with nothing recorded, before and after the test."""
    upstream.reset()
    yield upstream
    upstream.reset()
