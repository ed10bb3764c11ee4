"""Start the real Rasa server and action server on free ports, talk to them, stop them.

Used by tests/bot/test_live_chat.py and bench/bench_bot.py. Each server runs in its own
process group so stopping it also stops its workers; logs go to files for post-mortems.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
RASA_BIN = os.environ.get("HOTLINE_RASA_BIN", str(ROOT / ".venv-rasa" / "bin" / "rasa"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def model_path() -> str:
    model = os.environ.get("HOTLINE_RASA_MODEL") or os.environ.get("RASA_MODEL")
    if not model or not Path(model).is_file():
        raise RuntimeError(f"no trained model (HOTLINE_RASA_MODEL={model!r}); run `make rasa-model`")
    return model


class LiveBot:
    def __init__(self, model: str, *, as_of: str | None = None, tickets: str = "fake",
                 startup_timeout: float = 420.0) -> None:
        self.model = model
        self.as_of = as_of
        self.tickets = tickets
        self.timeout = startup_timeout
        self.workdir = Path(tempfile.mkdtemp(prefix="hotline-bot-"))
        self.rasa_port = free_port()
        self.actions_port = free_port()
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.actions_url = f"http://127.0.0.1:{self.actions_port}"
        self.procs: dict[str, subprocess.Popen] = {}

    # -- processes ---------------------------------------------------------------------------
    def _env(self) -> dict:
        env = dict(os.environ, HOTLINE_TICKETS=self.tickets, RASA_TELEMETRY_ENABLED="false",
                   PYTHONPATH=str(ROOT))
        if self.as_of:
            env["HOTLINE_AS_OF"] = self.as_of
        else:
            env.pop("HOTLINE_AS_OF", None)
        return env

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(args, cwd=ROOT, env=self._env(), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def start_actions(self) -> None:
        self._spawn("actions", [RASA_BIN, "run", "actions", "-p", str(self.actions_port),
                                "--actions", "actions"])
        self._wait(f"{self.actions_url}/health", "actions")

    def start(self) -> "LiveBot":
        endpoints = self.workdir / "endpoints.yml"
        endpoints.write_text(f'action_endpoint:\n  url: "{self.actions_url}/webhook"\n')
        self._spawn("actions", [RASA_BIN, "run", "actions", "-p", str(self.actions_port),
                                "--actions", "actions"])
        self._spawn("rasa", [RASA_BIN, "run", "--enable-api", "-i", "127.0.0.1", "-p",
                             str(self.rasa_port), "-m", self.model, "--endpoints", str(endpoints)])
        try:
            self._wait(f"{self.actions_url}/health", "actions")
            self._wait(f"{self.rasa_url}/status", "rasa", need=lambda r: r.json().get("model_file"))
        except Exception:
            self.stop()
            raise
        return self

    def _wait(self, url: str, name: str, need=lambda r: True) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log(name)[-3000:]}")
            try:
                r = requests.get(url, timeout=2)
                if r.ok and need(r):
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise RuntimeError(f"{name} not ready after {self.timeout}s:\n{self.log(name)[-3000:]}")

    def stop_one(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def restart_actions(self, *, as_of: str | None) -> None:
        """The day of the question lives in the action server: restart only that (seconds)."""
        self.stop_one("actions")
        self.as_of = as_of
        self.start_actions()

    def stop(self) -> None:
        for name in list(self.procs):
            self.stop_one(name)

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def __enter__(self) -> "LiveBot":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- HTTP --------------------------------------------------------------------------------
    def chat(self, sender: str, message: str, channel: str = "rest") -> list[str]:
        r = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", timeout=60,
                          json={"sender": sender, "message": message, "metadata": {"channel": channel}})
        r.raise_for_status()
        return [m.get("text", "") for m in r.json()]

    def tracker(self, sender: str) -> dict:
        r = requests.get(f"{self.rasa_url}/conversations/{sender}/tracker", timeout=30)
        r.raise_for_status()
        return r.json()

    def parse(self, text: str) -> dict:
        r = requests.post(f"{self.rasa_url}/model/parse", json={"text": text}, timeout=30)
        r.raise_for_status()
        return r.json()
