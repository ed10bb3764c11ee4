"""The service's log lines as tests read them: every record formatted by its own JsonFormatter."""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from typing import Iterator

from service.core.logging import JsonFormatter


class JsonLines(logging.Handler):
    """Collects `lines` (parsed) and `raw` (as written), formatted when logged, like the stream."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []
        self.raw: list[str] = []

    def emit(self, record):
        out = self.format(record)
        self.raw.append(out)
        self.lines.append(json.loads(out))

    def events(self, name: str) -> list[dict]:
        return [line for line in self.lines if line.get("event") == name]


@contextmanager
def capture_json_logs(handler: JsonLines | None = None, *, logger: str = "",
                      level: int = logging.INFO) -> Iterator[JsonLines]:
    """Attach `handler` (a fresh JsonLines by default) to `logger` (root) at `level` meanwhile."""
    handler = handler or JsonLines()
    target = logging.getLogger(logger)
    old = target.level
    target.addHandler(handler)
    target.setLevel(level)
    try:
        yield handler
    finally:
        target.removeHandler(handler)
        target.setLevel(old)
