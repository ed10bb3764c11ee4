"""An interrupted run leaves no half-written output: the target keeps its old content (or does
not appear), temporary files are removed when the process can clean up, and workers stop."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.screening.conftest import ROOT

ROWS = 40_000


@pytest.fixture(scope="module")
def big_register(tmp_path_factory):
    from screening.synth import write_register

    path = tmp_path_factory.mktemp("big") / "reg.csv"
    write_register(path, ROWS, seed=3, workers=2)
    return path


def children_of(pid: int) -> set[int]:
    kids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.add(int(entry.name))
    return kids


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_and_interrupt(register: Path, out: Path, sig: int, written: int = 50_000):
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "screen", str(register), "--as-of", "2022-07-01",
         "--out", str(out), "--workers", "2", "--no-progress"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    partial = out.with_name(f".{out.name}.partial-{proc.pid}")
    deadline = time.monotonic() + 60
    # Wait until results are being written: the run is truly midway.
    while not (partial.exists() and partial.stat().st_size > written):
        assert proc.poll() is None, f"run ended before it could be interrupted: {proc.communicate()}"
        assert time.monotonic() < deadline, "no output was being written"
        time.sleep(0.05)
    workers = children_of(proc.pid)
    assert workers, "the run should use worker processes"
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    return proc, partial, workers, stdout, stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_run_leaves_old_output_and_no_partial_file(big_register, tmp_path, sig):
    out = tmp_path / "out.csv"
    out.write_text("previous result\n", encoding="utf-8")
    proc, partial, workers, _, stderr = start_and_interrupt(big_register, out, sig)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert out.read_text(encoding="utf-8") == "previous result\n"
    assert not partial.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no summary, no errors file
    deadline = time.monotonic() + 10
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(w) for w in workers), "worker processes outlived the interrupted run"


def test_run_interrupted_at_any_moment_ends_promptly(big_register, tmp_path):
    # A worker stopped while it is sending a result once left half a message in the pool's
    # pipe, and the run hung for ever in about one interrupt of eight: interrupt it often, at
    # different moments, and require each run to end (communicate() has a 60 s limit).
    for k, written in enumerate((1, 20_000, 60_000, 120_000, 200_000, 300_000, 400_000, 500_000)):
        out = tmp_path / f"out{k}.csv"
        proc, partial, _, _, stderr = start_and_interrupt(big_register, out, signal.SIGTERM, written)
        assert proc.returncode == 130, stderr
        assert not out.exists() and not partial.exists()


def test_killed_run_never_creates_the_target(big_register, tmp_path):
    out = tmp_path / "out.csv"
    # SIGKILL cannot be caught: the temporary file stays, but the target is never half-written,
    # and the orphaned workers notice their parent is gone and exit (they hold its pipes, so
    # communicate() below returns only once they have).
    proc, partial, workers, _, _ = start_and_interrupt(big_register, out, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(w) for w in workers), "workers outlived their killed parent"
    assert not out.exists()
    assert partial.exists()
    partial.unlink()


def test_stopping_joins_a_manager_thread_that_a_signal_caught_while_it_was_starting():
    # CI once saw SIGTERM land inside the pool's first submit, in Thread.start(): join() then
    # raised "cannot join thread before it is started" and the run exited 1 instead of 130.
    import threading

    from screening.engine import _join_started

    ran = threading.Event()
    late = threading.Thread(target=ran.set)
    threading.Timer(0.05, late.start).start()
    _join_started(late)
    assert ran.is_set() and not late.is_alive()

    never = threading.Thread(target=ran.set)
    started = time.monotonic()
    _join_started(never, patience=0.2)  # start() was cut off before the thread existed
    assert 0.2 <= time.monotonic() - started < 5 and not never.is_alive()
