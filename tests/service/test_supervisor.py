"""The supervisor behind `make run`, with stand-in children: a dead child is reported and
restarted, SIGTERM stops every child."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest


def _wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_supervisor_reports_dead_children_and_stops_all(tmp_path, sig):
    sleeper = f"{sys.executable} -c 'import time; time.sleep(300)'"
    crasher = f"{sys.executable} -c 'import sys; sys.exit(3)'"
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.supervisor", "--no-prepare", "--root", str(tmp_path),
         "--child", f"service={sleeper}", "--child", f"actions={crasher}"],
        stderr=subprocess.PIPE, text=True, cwd=os.getcwd())
    state_file = tmp_path / "var" / "run" / "supervisor.json"

    def dead_actions():
        if not state_file.exists():
            return None
        state = json.loads(state_file.read_text())
        a = state["children"]["actions"]
        return state if (not a["running"] and a["exit_code"] == 3) else None

    state = _wait(dead_actions)
    assert state["children"]["service"]["running"] is True
    service_pid = state["children"]["service"]["pid"]
    assert _alive(service_pid)
    proc.send_signal(sig)
    proc.wait(timeout=20)
    stderr = proc.stderr.read()
    assert proc.returncode == 0
    assert "actions" in stderr and "EXITED with code 3" in stderr
    assert "all children stopped" in stderr
    _wait(lambda: not _alive(service_pid), timeout=5)
