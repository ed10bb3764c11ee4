from __future__ import annotations

import json
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


def _supervisor_state(path) -> dict | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"error": f"cannot read supervisor state: {exc}"}
    if time.time() - data.get("updated", 0) > 30:
        data["stale"] = True  # the supervisor itself may be gone
    return data


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """200 while the service and its database are up, with the state of each part; 503 when
    the database is down. `down` names the parts that are not up."""
    state = request.app.state
    parts: dict[str, dict] = {}
    try:
        state.db.ping()
        parts["database"] = {"up": True, "backend": state.db.engine.dialect.name}
    except Exception as exc:  # noqa: BLE001
        parts["database"] = {"up": False, "error": f"{type(exc).__name__}"}
    parts["rasa"] = state.rasa.rasa_health()
    parts["action_server"] = state.rasa.action_server_health()
    worker = state.outbox_worker
    parts["outbox_worker"] = {"up": bool(worker and worker._thread and worker._thread.is_alive()),
                              "enabled": worker is not None}
    sup = _supervisor_state(state.settings.supervisor_state_file)
    if sup is not None:
        parts["supervisor"] = sup
        for name, child in (sup.get("children") or {}).items():
            if not child.get("running"):
                key = {"rasa": "rasa", "actions": "action_server"}.get(name, name)
                parts.setdefault(key, {})["process"] = f"exited ({child.get('exit_code')})"
                parts[key]["up"] = False
    down = [name for name, p in parts.items() if p.get("up") is False and (name != "outbox_worker" or worker)]
    body = {"status": "ok" if not down else "degraded", "down": down, "parts": parts}
    return JSONResponse(body, status_code=200 if parts["database"]["up"] else 503)


@router.head("/healthz", include_in_schema=False)
def healthz_head(request: Request) -> JSONResponse:
    """HEAD is what many uptime monitors send; same status, no body."""
    return healthz(request)
