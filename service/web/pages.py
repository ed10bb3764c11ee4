"""Staff pages: /login, /copilot, /queue, /queue/stats, /queue/{id}, and the two JSON calls the
copilot page makes (/web/api/copilot/analyze, /web/api/tickets).

The JSON calls and the queue's actions call the API's route functions themselves
(service.api.routes.copilot.analyze, .tickets.create_ticket, .tickets.patch_ticket) with the
caller taken from the login cookie: same validation, same roles, same errors, same history.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Header, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.security import OAuth2PasswordRequestForm

from service.api.deps import SessionDep, SettingsDep
from service.core.errors import ApiError
from service.models.base import utcnow
from service.services import policy
from service.services.auth import Principal
from service.web import queue as queue_q
from service.web import session as web

router = APIRouter(include_in_schema=False)

FLASH = {"acknowledged": "已确认接单。", "assisted": "已标记为已救助。", "closed": "工单已关闭。",
         "note": "备注已添加。", "paperwork": "补齐材料清单已更新。"}
ACTION_LABELS = {"created": "开单", "status": "状态变更", "note": "备注", "paperwork": "补齐材料",
                 "county": "转派"}
SOURCE_LABELS = {"wechat": "微信公众号", "rest": "网页对话", "copilot": "坐席助手", "agent": "坐席"}


# ------------------------------------------------------------------ helpers
def _render(request: Request, name: str, context: dict, status_code: int = 200) -> HTMLResponse:
    token = web.session_token(request)
    base = {"csrf": web.csrf_token(request, token) if token else "", "me": None,
            "status_labels": queue_q.STATUS_LABELS}
    base.update(context)
    resp = web.templates().TemplateResponse(request, name, base, status_code=status_code)
    # Pages carry personal data: never cached, never framed.
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'")
    return resp


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _forbidden(request: Request, me: Principal, what: str) -> HTMLResponse:
    return _render(request, "error.html", {"me": me, "title": "无权访问",
                                           "message": f"您的账号（{me.username}）无权使用{what}。"}, 403)


def _safe_next(target: str | None, me_role: str) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/queue" if me_role == "county" else "/copilot"


def _local(dt: datetime | None) -> str:
    return dt.astimezone(queue_q.LOCAL).strftime("%Y-%m-%d %H:%M") if dt else "—"


def _default_as_of(settings) -> date:
    return settings.as_of or utcnow().astimezone(queue_q.LOCAL).date()


def _vocabulary() -> dict:
    """Facts vocabulary (labels, types, questions) and the counties, for the chip editors."""
    import policy_kb
    from policy_kb.tables import vocabulary

    v = vocabulary()
    return {"fields": v["fields"], "statuses": {k: s["label"] for k, s in v["statuses"].items()},
            "employment": v["employment"], "residence": v.get("residence", {}),
            "counties": [{"name": c.name, "city": c.city} for c in policy_kb.counties()]}


def _fact_rows(facts: dict) -> list[tuple[str, str]]:
    """(label, value) pairs in Chinese for a Facts dict."""
    v = _vocabulary()
    out = []
    for key, value in facts.items():
        if key in ("statuses", "not_statuses"):
            if value:
                labels = "、".join(v["statuses"].get(c, c) for c in value)
                out.append(("已认定的身份" if key == "statuses" else "确认不属于", labels))
            continue
        spec = v["fields"].get(key, {})
        if isinstance(value, bool):
            shown = "是" if value else "否"
        elif key == "employment":
            shown = v["employment"].get(value, value)
        elif key == "residence":
            shown = v["residence"].get(value, value)
        else:
            shown = str(value)
        out.append((spec.get("label", key), shown))
    return out


# ------------------------------------------------------------------ static files
@router.get("/static/{name}")
def static_file(name: str) -> Response:
    # Only files that are really in service/static (no paths, no dot files).
    path = web.STATIC_DIR / name
    if "/" in name or name.startswith(".") or not path.is_file():
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


# ------------------------------------------------------------------ login
@router.get("/login")
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return _render(request, "login.html", {"next": next or "", "error": None, "username": ""})


@router.post("/login")
def login_submit(request: Request, db: SessionDep, settings: SettingsDep,
                 username: str = Form(""), password: str = Form(""), next: str = Form("")) -> Response:
    """Form post: get a token from the API's OAuth2 token endpoint and keep it in the cookie."""
    from service.api.routes.auth import login

    if not username.strip() or not password:
        return _render(request, "login.html", {"next": next, "username": username,
                                               "error": "请输入用户名和密码。"}, 422)
    form = OAuth2PasswordRequestForm(username=username, password=password)
    try:
        token = login(request, form, db, settings)
    except ApiError as exc:
        message = ("用户名或密码错误。" if exc.status_code == 401
                   else exc.detail.split(" / ")[0] + "。")
        return _render(request, "login.html", {"next": next, "username": username, "error": message},
                       exc.status_code)
    if token.role not in web.QUEUE_ROLES:
        return _render(request, "login.html", {"next": next, "username": username,
                                               "error": "此账号不能登录网页。"}, 403)
    resp = RedirectResponse(_safe_next(next, token.role), status_code=303)
    resp.set_cookie(web.COOKIE, token.access_token, max_age=settings.access_token_minutes * 60,
                    httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")
    return resp


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    web.check_csrf(request, csrf)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(web.COOKIE, path="/", httponly=True, samesite="strict")
    return resp


# ------------------------------------------------------------------ copilot
@router.get("/copilot")
def copilot_page(request: Request, db: SessionDep, settings: SettingsDep) -> Response:
    me = web.principal(request, db)
    if me is None:
        return _to_login(request)
    if me.role not in web.COPILOT_ROLES:
        return _forbidden(request, me, "坐席助手")
    return _render(request, "copilot.html", {
        "me": me, "as_of": _default_as_of(settings).isoformat(),
        "vocab_json": json.dumps(_vocabulary(), ensure_ascii=False).replace("</", "<\\/")})


def _json_caller(request: Request, db, csrf: str | None, roles: tuple[str, ...]) -> Principal:
    me = web.principal(request, db)
    if me is None:
        raise ApiError(401, "需要登录 / not logged in", type_="unauthorized")
    web.check_csrf(request, csrf)
    if me.role not in roles:
        raise ApiError(403, "无权使用 / not allowed for this account", type_="forbidden")
    return me


def _validated(model, payload: dict):
    """The API's request model on a page's JSON body; errors take the API's own 422 shape
    (service.core.errors), as if the body had come to the JSON route."""
    from fastapi.exceptions import RequestValidationError
    from pydantic import ValidationError

    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None


@router.post("/web/api/copilot/analyze")
def web_analyze(request: Request, payload: dict[str, Any], db: SessionDep, settings: SettingsDep,
                csrf: str | None = Header(None, alias=web.CSRF_HEADER)) -> dict:
    """The page's door to POST /api/v1/copilot/analyze (same function, caller from the cookie)."""
    from service.api.routes.copilot import AnalyzeIn, analyze

    me = _json_caller(request, db, csrf, web.COPILOT_ROLES)
    body = _validated(AnalyzeIn, payload)
    return analyze(body, settings, me)


@router.post("/web/api/tickets", status_code=201)
def web_open_ticket(request: Request, payload: dict[str, Any], response: Response, db: SessionDep,
                    settings: SettingsDep, csrf: str | None = Header(None, alias=web.CSRF_HEADER)) -> dict:
    """The page's door to POST /api/v1/tickets (same function, caller from the cookie)."""
    from service.api.routes.tickets import TicketIn, create_ticket

    me = _json_caller(request, db, csrf, web.COPILOT_ROLES)
    body = _validated(TicketIn, payload)
    return create_ticket(body, response, db, settings, me, None)


# ------------------------------------------------------------------ queue
def _county_choice(me: Principal, county: str | None) -> str | None:
    if me.role == "county":
        return me.county
    if county:
        found = policy.resolve_county(county)
        return found
    return None


@router.get("/queue")
def queue_page(request: Request, db: SessionDep, status: str = "active", county: str | None = None,
               page: int = Query(1, ge=1, le=100_000)) -> Response:
    me = web.principal(request, db)
    if me is None:
        return _to_login(request)
    if me.role not in web.QUEUE_ROLES:
        return _forbidden(request, me, "工单队列")
    if status not in queue_q.STATUS_FILTERS:
        status = "active"
    try:
        chosen = _county_choice(me, county)
    except ApiError as exc:
        return _render(request, "error.html", {"me": me, "title": "参数有误", "message": exc.detail}, 422)
    now = utcnow()
    result = queue_q.queue_page(db, me, status=status, county=chosen, page=page, now=now)
    from service.core.privacy import mask_text

    rows = [{"id": t.id, "county": t.county or "未定", "status": t.status,
             "status_label": queue_q.STATUS_LABELS.get(t.status, t.status),
             "created": _local(t.created_at), "reason": mask_text(t.urgent_reason),
             "source": SOURCE_LABELS.get(t.source, t.source),
             "sla": queue_q.sla_clock(t, now), "due_iso": t.sla_due_at.isoformat(),
             "acted": t.first_action_at is not None} for t in result.rows]

    def link(**changes) -> str:
        params = {"status": status, "county": chosen if me.sees_everything else None, "page": result.page}
        params.update(changes)
        return "/queue?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})

    return _render(request, "queue.html", {
        "me": me, "rows": rows, "result": result, "status": status, "county": chosen,
        "filters": queue_q.STATUS_FILTERS, "counties": [c["name"] for c in _vocabulary()["counties"]],
        "prev_link": link(page=result.page - 1) if result.page > 1 else None,
        "next_link": link(page=result.page + 1) if result.page < result.pages else None,
        "now_iso": now.isoformat()})


@router.get("/queue/stats")
def stats_page(request: Request, db: SessionDep, county: str | None = None,
               days: int = Query(14, ge=7, le=90)) -> Response:
    me = web.principal(request, db)
    if me is None:
        return _to_login(request)
    if me.role not in web.QUEUE_ROLES:
        return _forbidden(request, me, "工单统计")
    try:
        chosen = _county_choice(me, county)
    except ApiError as exc:
        return _render(request, "error.html", {"me": me, "title": "参数有误", "message": exc.detail}, 422)
    stats = queue_q.daily_stats(db, me, county=chosen, days=days, now=utcnow())
    return _render(request, "stats.html", {
        "me": me, "stats": stats, "chart": queue_q.bar_chart(stats), "days": days, "county": chosen,
        "counties": [c["name"] for c in _vocabulary()["counties"]],
        "rows": list(zip(stats.days, stats.opened))})


def _detail_context(request: Request, db, settings, me: Principal, ticket_id: int) -> dict:
    from service.services.tickets import TRANSITIONS, get_visible_ticket, ticket_view

    t = get_visible_ticket(db, me, ticket_id)  # 404 for tickets of other counties
    view = ticket_view(t, full=True)
    try:
        facts = policy.validate_facts(dict(t.facts or {}))
        evaluation = policy.evaluate(facts, default_as_of=settings.as_of)
    except ApiError:
        evaluation = None
    excerpt = _conversation_excerpt(request, t)
    now = utcnow()
    history = [{"at": _local(datetime.fromisoformat(h["at"])), "actor": h["actor"],
                "action": ACTION_LABELS.get(h["action"], h["action"]),
                "detail": _history_text(h)} for h in view["history"]]
    return {"me": me, "t": view, "facts": _fact_rows(view["facts"] or {}), "evaluation": evaluation,
            "excerpt": excerpt, "history": history, "sla": queue_q.sla_clock(t, now),
            "created": _local(t.created_at), "due": _local(t.sla_due_at),
            "source": SOURCE_LABELS.get(t.source, t.source),
            "next_statuses": TRANSITIONS.get(t.status, ()),
            "note_needed_to_close": t.status in ("open", "acknowledged"),
            "flash": None, "error": None}


def _history_text(h: dict) -> str:
    d = h.get("detail") or {}
    if h["action"] == "status":
        return f"{queue_q.STATUS_LABELS.get(d.get('from'), d.get('from'))} → {queue_q.STATUS_LABELS.get(d.get('to'), d.get('to'))}"
    if h["action"] == "note":
        return d.get("text", "")
    if h["action"] == "created":
        return f"来源：{SOURCE_LABELS.get(d.get('source'), d.get('source'))}，县：{d.get('county') or '未定'}"
    if h["action"] == "paperwork":
        return "、".join(f"{k}{'已补齐' if v else '改为未补'}" for k, v in d.items())
    if h["action"] == "county":
        return f"{d.get('from') or '未定'} → {d.get('to') or '未定'}"
    return json.dumps(d, ensure_ascii=False)


def _conversation_excerpt(request: Request, t) -> list[dict]:
    """The caller's own words: the ticket's reason, and for chat tickets the last turns from Rasa."""
    lines = [{"who": "来电/留言人（开单原因）", "text": t.urgent_reason}]
    if t.conversation_id and t.source in ("rest", "wechat"):
        try:
            events = (request.app.state.rasa.tracker(t.conversation_id) or {}).get("events") or []
        except Exception:  # noqa: BLE001 — Rasa down: the reason alone is still the excerpt
            events = []
        turns = [{"who": "群众" if e.get("event") == "user" else "助手", "text": e.get("text")}
                 for e in events if e.get("event") in ("user", "bot") and e.get("text")]
        lines += turns[-8:]
    return lines


@router.get("/queue/{ticket_id}")
def ticket_page(request: Request, ticket_id: int, db: SessionDep, settings: SettingsDep,
                done: str | None = None) -> Response:
    me = web.principal(request, db)
    if me is None:
        return _to_login(request)
    if me.role not in web.QUEUE_ROLES:
        return _forbidden(request, me, "工单队列")
    try:
        ctx = _detail_context(request, db, settings, me, ticket_id)
    except ApiError as exc:
        if exc.status_code == 404:
            return _render(request, "error.html", {"me": me, "title": "找不到工单",
                                                   "message": f"工单 {ticket_id} 不存在或不属于您的辖区。"}, 404)
        raise
    ctx["flash"] = FLASH.get(done or "")
    return _render(request, "ticket.html", ctx)


@router.post("/queue/{ticket_id}")
async def ticket_action(request: Request, ticket_id: int, db: SessionDep, settings: SettingsDep) -> Response:
    """The detail page's forms: status change (with optional note), a note, paperwork ticks.
    Done through the API's PATCH function; errors re-render the page with the message."""
    from service.api.routes.tickets import TicketPatch, patch_ticket

    me = web.principal(request, db)
    if me is None:
        return _to_login(request)
    form = await request.form()
    web.check_csrf(request, form.get("csrf"))
    action = form.get("action", "")
    note = (form.get("note") or "").strip() or None
    try:
        if action == "status":
            target = form.get("status")
            body = TicketPatch(status=target, note=note)
            done = target
        elif action == "note":
            if not note:
                raise ApiError(422, "备注不能为空 / the note is empty", field="note")
            body = TicketPatch(note=note)
            done = "note"
        elif action == "paperwork":
            codes = [c for c in form.getlist("item")]
            current = form.getlist("known")
            body = TicketPatch(paperwork={c: c in codes for c in current})
            done = "paperwork"
        else:
            raise ApiError(422, f"未知操作 / unknown action '{action}'", field="action")
        patch_ticket(ticket_id, body, db, me)
    except ApiError as exc:
        db.rollback()
        if exc.status_code == 404:
            return _render(request, "error.html", {"me": me, "title": "找不到工单",
                                                   "message": f"工单 {ticket_id} 不存在或不属于您的辖区。"}, 404)
        ctx = _detail_context(request, db, settings, me, ticket_id)
        ctx["error"] = exc.detail.split(" / ")[0]
        ctx["note_value"] = note or ""
        return _render(request, "ticket.html", ctx, exc.status_code)
    except ValueError as exc:  # pydantic: a status outside the four
        db.rollback()
        ctx = _detail_context(request, db, settings, me, ticket_id)
        ctx["error"] = f"操作无效：{exc.__class__.__name__}"
        return _render(request, "ticket.html", ctx, 422)
    return RedirectResponse(f"/queue/{ticket_id}?done={done}", status_code=303)
