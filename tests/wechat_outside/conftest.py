"""Fixtures for the outside WeChat client (wechat_client.py): the stand-in upstream (Rasa and the
WeChat API) and the service process on 127.0.0.1:8108, shared by the whole session."""
from __future__ import annotations

import pytest

from tests.wechat_outside.wechat_client import ServiceRunner, Upstream


@pytest.fixture(scope="session")
def upstream():
    u = Upstream()
    u.start()
    yield u
    u.stop()


@pytest.fixture(scope="session")
def runner(upstream, tmp_path_factory):
    r = ServiceRunner(upstream, tmp_path_factory.mktemp("wechat-outside"))
    yield r
    r.stop()
