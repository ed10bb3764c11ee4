"""Answering WeChat pushes: each message once, within the passive-reply deadline or later.

For every authentic message:
1. claim it: INSERT a `wechat_inbound` row keyed by (account, sender, MsgId) (events: account,
   sender, CreateTime, Event). A retry of the same message by the same sender, on any worker, hits
   the unique key and gets the stored reply (or waits briefly for it, or "success" while the first
   attempt is still working); another sender's message with the same MsgId is a new message, and
   a stored reply addressed (ToUserName) to anyone but the sender is never returned;
2. answer it in a worker thread: text goes to the assistant through the service's chat path
   (`service.services.chat.handle_turn`, channel "wechat", the openid as sender);
3. race the deadline: in memory (`_Race`), so the reply at the deadline needs no database
   round-trip even when the database is what is slow. If the answer came first it is stored
   (processing → answered) and is the passive reply; otherwise the request replies "success" at
   once, and the job records that reply (processing → deferred) and puts the answer in the
   customer-service outbox (`wechat_deliveries`) in the same transaction.

When the database is down the claim fails, and the message is answered all the same, unclaimed
(`answer_unclaimed`): no de-duplication, so a WeChat retry during the outage is answered again,
which the chat path makes harmless (an urgent case is held once per conversation + reason and its
ticket opened once, service/services/held_tickets.py). An answer that misses the deadline then
goes to the outbox if the database is back, else straight to the customer-service API.

Logs never carry a caller's words, nor an exception's full text (SQLAlchemy's includes the
statement's parameters): the exception type, the driver's first line masked, and where it was
raised (service.core.db.error_fields).
"""
from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from service.core.config import Settings
from service.core.db import Database, describe_error, error_fields
from service.core.errors import ApiError
from service.models.base import utcnow
from service.models.wechat import WeChatInbound, WeChatMore
from service.services.chat import FALLBACK_TEXT
from service.services.wechat_api import WeChatApi
from service.services.wechat_delivery import DeliveryWorker, enqueue_delivery
from service.services.wechat_text import MAX_TEXT_BYTES, MORE_HINT, is_more_request, split_text

log = logging.getLogger("service.wechat")

SUCCESS = "success"
ASK_FOR_TEXT = "目前只能识别文字消息。请用文字告诉我您的情况或问题，例如您所在的县（市、区）、家里几口人、遇到了什么困难。"
ASK_FOR_TEXT_LOCATION = "已收到您的位置。请用文字告诉我您所在的县（市、区）和遇到的困难，我来帮您查询可以享受的救助政策。"
EMPTY_TEXT = "请用文字输入您想咨询的问题，例如：我在西吉县，家里断了收入，能申请什么救助？"
PENDING_TEXT = "您的问题还在查询中，请稍后回复“详细”查看答复。"
NO_MORE_TEXT = "没有更多内容了。您可以继续提问。"
SUBSCRIBE_EVENTS = {"subscribe", "subscribe_scan", "subscribe_scan_product"}
# A tap on a menu button (or a scan by someone already following) is a person waiting for an
# answer: it gets the greeting, which says how to ask. Other events stay silent.
GREETED_EVENTS = SUBSCRIBE_EVENTS | {"click", "scan"}
# The longest a message waits for the same caller's previous one (Rasa's own timeout is 15 s).
TURN_PATIENCE = 20.0


class ForeignRow(Exception):
    """The claimed key's row belongs to another sender or account."""


_TO_USER = re.compile(r"<ToUserName>\s*(?:<!\[CDATA\[(.*?)\]\]>|([^<]*))\s*</ToUserName>", re.S)


def reply_is_for(reply_xml: str, openid: str) -> bool:
    """Whether a stored passive reply is addressed to `openid` (its ToUserName)."""
    m = _TO_USER.search(reply_xml or "")
    return bool(m) and (m.group(1) if m.group(1) is not None else m.group(2)).strip() == openid


@lru_cache(maxsize=1)
def welcome_text() -> str:
    """The subscribe greeting; the document's name and number come from policy_kb."""
    import policy_kb

    doc = policy_kb.document()
    return (f"您好，欢迎关注！我是困难群众基本生活保障政策智能助手，依据《{doc['title']}》"
            f"（{doc['number']}），可以根据您家的情况，帮您了解其中{len(policy_kb.measures())}项措施："
            "您可能符合哪些救助、大概能领多少、到哪里申请。\n\n"
            "请直接用文字告诉我您的情况，例如：“我住在西吉县，家里四口人，是农村低保户，几个月没有收入了”。\n\n"
            "如果遇到断粮、无处居住、回不了家等紧急困难，请直接说明，我们会转给当地民政部门尽快处理；"
            "也可以拨打 12345 政务服务便民热线。")


ChatFn = Callable[..., object]  # service.services.chat.handle_turn's signature


@dataclass
class Outcome:
    """What a message gets: `text` (None: "success"), and what happens to the caller's held-back
    rest of a long answer: kind 'chat' (replace it), 'more' (it was consumed), 'fixed' (keep)."""

    text: str | None
    kind: str = "fixed"
    rest: list[str] | None = None


class _Race:
    """In-process arbiter between a request's deadline and the job answering it: exactly one of
    `give_up()` (the request replies `reply_if_late` now) and `finish()` (the job's answer is
    the passive reply) wins."""

    def __init__(self, reply_if_late: str):
        self.reply_if_late = reply_if_late
        self._lock = threading.Lock()
        self._late = False
        self._finishing = False

    def give_up(self) -> bool:
        with self._lock:
            if self._finishing:
                return False
            self._late = True
            return True

    def finish(self) -> bool:
        with self._lock:
            if self._late:
                return False
            self._finishing = True
            return True


class _Turns:
    """One caller's messages in arrival order (in this process)."""

    __slots__ = ("cond", "issued", "serving", "finished", "__weakref__")

    def __init__(self):
        self.cond = threading.Condition()
        self.issued = 0
        self.serving = 0
        self.finished: set[int] = set()


class _Turn:
    """A message's place in its caller's line: its assistant call waits until every earlier
    message of the caller is done (at most `patience` seconds, so nothing can stall for good)."""

    def __init__(self, line: _Turns):
        self.line = line  # keeps the line alive while a message holds a place in it
        with line.cond:
            self.number = line.issued
            line.issued += 1
        self._done = False

    def wait(self, patience: float) -> bool:
        with self.line.cond:
            return self.line.cond.wait_for(lambda: self.line.serving >= self.number, timeout=patience)

    def done(self) -> None:
        with self.line.cond:
            if self._done:
                return
            self._done = True
            self.line.finished.add(self.number)
            while self.line.serving in self.line.finished:
                self.line.finished.discard(self.line.serving)
                self.line.serving += 1
            self.line.cond.notify_all()


class Replay(ApiError):
    def __init__(self):
        super().__init__(403, "签名已被另一条消息使用 / this signature (timestamp, nonce) was already used "
                         "for another message", type_="replayed_signature")


class WeChatChannel:
    def __init__(self, *, db: Database, rasa, settings: Settings, chat_fn: ChatFn,
                 api: WeChatApi | None, worker: DeliveryWorker | None, render: Callable):
        self.db = db
        self.rasa = rasa
        self.settings = settings
        self.chat_fn = chat_fn
        self.api = api
        self.worker = worker
        self.render = render  # (Inbound, text) -> passive reply XML
        self.deadline = settings.wechat_reply_deadline_seconds
        self.executor = ThreadPoolExecutor(settings.wechat_workers, thread_name_prefix="wechat")
        self._tasks: set[asyncio.Task] = set()  # answers still running after their request replied
        # One turn at a time per caller, in arrival order (in this process): two quick messages
        # reach the assistant in the order they were sent, and the conversation record is not
        # written by both at once.
        self._lines: weakref.WeakValueDictionary[str, _Turns] = weakref.WeakValueDictionary()
        self._lines_guard = threading.Lock()

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=False)

    # --- 1. claim ---------------------------------------------------------------------------
    def claim(self, msg, *, sig_timestamp: int, nonce: str) -> WeChatInbound | None:
        """None: this request owns the message. Otherwise the row of the earlier attempt."""
        with self.db.sessionmaker() as s:
            s.add(WeChatInbound(dedupe_key=msg.dedupe_key, openid=msg.openid, account=msg.account,
                                msg_type=msg.msg_type if not msg.event else f"event:{msg.event}"[:32],
                                sig_timestamp=sig_timestamp, nonce=nonce[:64], state="processing",
                                claimed_at=utcnow()))
            try:
                s.commit()
                return None
            except IntegrityError:
                s.rollback()
        with self.db.sessionmaker() as s:
            used = s.scalar(select(WeChatInbound).where(WeChatInbound.sig_timestamp == sig_timestamp,
                                                        WeChatInbound.nonce == nonce[:64]))
            if used is not None and used.dedupe_key != msg.dedupe_key:
                log.warning("wechat signature replayed with another message",
                            extra={"event": "wechat.replay", "openid_ref": msg.openid_ref})
                raise Replay()
            row = s.scalar(select(WeChatInbound).where(WeChatInbound.dedupe_key == msg.dedupe_key))
            if row is None:  # cannot happen: one of the two unique keys collided
                raise RuntimeError("wechat claim collided with no row")
            if row.openid != msg.openid or row.account != msg.account:
                # cannot happen with the sender in the key; if it ever did, the reply is somebody else's
                log.error("wechat retry key matched another sender's message", extra={
                    "event": "wechat.foreign_row", "openid_ref": msg.openid_ref})
                raise ForeignRow()
            return row

    def _stored(self, key: str) -> WeChatInbound | None:
        with self.db.sessionmaker() as s:
            return s.scalar(select(WeChatInbound).where(WeChatInbound.dedupe_key == key))

    async def _await_stored(self, msg, row: WeChatInbound, deadline: float, if_late: str) -> str:
        """A retry: the stored reply; while the first attempt works, wait for it until the deadline."""
        while row.state == "processing":
            if time.monotonic() + 0.05 >= deadline:
                log.info("wechat retry while still processing",
                         extra={"event": "wechat.retry_pending", "openid_ref": msg.openid_ref})
                return if_late
            await asyncio.sleep(0.05)
            row = await run_in_threadpool(self._stored, msg.dedupe_key)
        if row.reply_xml and row.reply_xml != SUCCESS and not reply_is_for(row.reply_xml, msg.openid):
            log.error("wechat stored reply addressed to another sender: not returned",
                      extra={"event": "wechat.foreign_reply", "openid_ref": msg.openid_ref})
            return SUCCESS
        log.info("wechat retry answered from the stored reply",
                 extra={"event": "wechat.retry", "openid_ref": msg.openid_ref, "state": row.state})
        return row.reply_xml or SUCCESS

    # --- 2. answer ----------------------------------------------------------------------------
    def _more_parts(self, openid: str) -> list[str]:
        try:
            with self.db.sessionmaker() as s:
                row = s.get(WeChatMore, openid)
                return list(row.parts) if row is not None else []
        except SQLAlchemyError as exc:  # the database is down: "详细" goes to the assistant
            log.warning("wechat: held-back answer unreadable: %s", describe_error(exc),
                        extra={"event": "wechat.db_unavailable", "step": "more"})
            return []

    def take_turn(self, openid: str) -> _Turn:
        with self._lines_guard:
            line = self._lines.get(openid)
            if line is None:
                line = _Turns()
                self._lines[openid] = line
            return _Turn(line)

    def _ask_assistant(self, msg, text: str, turn: _Turn) -> str:
        text = text[: self.settings.max_text_chars]
        if not turn.wait(TURN_PATIENCE):
            log.warning("wechat turn waited too long for the caller's previous message",
                        extra={"event": "wechat.turn_timeout", "openid_ref": msg.openid_ref})
        try:
            with self.db.sessionmaker() as session:
                result = self.chat_fn(session, self.rasa, sender=msg.openid, message=text,
                                      channel="wechat", default_as_of=self.settings.as_of,
                                      sla_minutes=self.settings.sla_first_action_minutes)
        except Exception as exc:  # noqa: BLE001 - the caller still gets an answer
            log.error("wechat chat turn failed", extra={"event": "wechat.chat_error",
                                                        "openid_ref": msg.openid_ref, **error_fields(exc)})
            return FALLBACK_TEXT
        pieces = []
        for m in result.messages:
            if m.get("text"):
                pieces.append(str(m["text"]).strip())
            titles = [str(b.get("title")) for b in (m.get("buttons") or []) if b.get("title")]
            if titles:
                pieces.append("您可以回复：" + " / ".join(titles))
        return "\n\n".join(p for p in pieces if p) or FALLBACK_TEXT

    def compute(self, msg, turn: _Turn) -> Outcome:
        if msg.msg_type == "event":
            if msg.event in GREETED_EVENTS:
                return Outcome(welcome_text())
            return Outcome(None)  # unsubscribe, menus that open pages, receipts: nothing to say
        text = (msg.content or "").strip()
        if msg.msg_type == "text" or (msg.msg_type == "voice" and text):
            if not text:
                return Outcome(EMPTY_TEXT)
            if is_more_request(text) and self._more_parts(msg.openid):
                return Outcome(None, kind="more")
            return Outcome(self._ask_assistant(msg, text, turn), kind="chat")
        if msg.msg_type == "location":
            return Outcome(ASK_FOR_TEXT_LOCATION)
        return Outcome(ASK_FOR_TEXT)  # voice without recognition, image, video, link, file…

    # --- 3. store, or hand to the outbox ----------------------------------------------------
    def _passive(self, session: Session, msg, out: Outcome) -> tuple[str | None, list[str] | None]:
        """(passive text or None for "success", the caller's new held-back rest or None to keep)."""
        if out.kind == "more":
            row = session.get(WeChatMore, msg.openid)
            parts = list(row.parts) if row is not None else []
            if not parts:
                return NO_MORE_TEXT, []
            head, rest = parts[0], parts[1:]
            return head + (MORE_HINT if rest else ""), rest
        if out.text is None:
            return None, ([] if msg.event == "unsubscribe" else None)
        parts = split_text(out.text, MAX_TEXT_BYTES, hint=MORE_HINT)
        head = (parts[0] + MORE_HINT) if len(parts) > 1 else (parts[0] if parts else "")
        return head, (parts[1:] if out.kind == "chat" else None)

    @staticmethod
    def _keep_rest(session: Session, openid: str, rest: list[str] | None) -> None:
        if rest is None:
            return
        if rest:
            row = session.get(WeChatMore, openid)
            if row is None:
                session.add(WeChatMore(openid=openid, parts=rest, updated_at=utcnow()))
            else:
                row.parts, row.updated_at = rest, utcnow()
        else:
            session.execute(delete(WeChatMore).where(WeChatMore.openid == openid))

    def answer(self, msg, race: _Race, turn: _Turn) -> str | None:
        """Work out the reply and store it. Returns the passive reply, or None when the request
        already replied at the deadline (the answer then goes to the outbox)."""
        try:
            return self._answer(msg, race, turn)
        finally:
            turn.done()

    def _answer(self, msg, race: _Race, turn: _Turn) -> str | None:
        started = time.monotonic()
        out = self.compute(msg, turn)
        elapsed = round((time.monotonic() - started) * 1000, 1)
        if not race.finish():
            self._late(msg, out, race.reply_if_late, elapsed)
            return None
        with self.db.session() as s:
            head, rest = self._passive(s, msg, out)
            reply = SUCCESS if head is None else self.render(msg, head)
            won = s.execute(update(WeChatInbound)
                            .where(WeChatInbound.dedupe_key == msg.dedupe_key,
                                   WeChatInbound.state == "processing")
                            .values(state="answered", reply_xml=reply, answered_at=utcnow())).rowcount
            if won:
                self._keep_rest(s, msg.openid, rest)
        log.info("wechat message answered", extra={
            "event": "wechat.answered", "openid_ref": msg.openid_ref, "msg_type": msg.msg_type,
            "ms": elapsed, "chars": len(msg.content or ""), "stored": bool(won)})  # never the words
        return reply

    def _late(self, msg, out: Outcome, reply_if_late: str, elapsed: float) -> None:
        """The request replied without the answer: record that reply for retries, and deliver
        the answer by the customer-service API (or keep it for "详细" without API credentials)."""
        with self.db.session() as s:
            s.execute(update(WeChatInbound)
                      .where(WeChatInbound.dedupe_key == msg.dedupe_key,
                             WeChatInbound.state == "processing")
                      .values(state="deferred", reply_xml=reply_if_late, answered_at=utcnow()))
            if out.kind == "more":
                head, rest = self._passive(s, msg, out)
                full = head or ""
                self._keep_rest(s, msg.openid, rest)
            else:
                full = out.text
            if not full:
                return
            if self.api is not None:
                # The full answer: customer-service messages are cut to 2048 bytes each.
                enqueue_delivery(s, dedupe_key=msg.dedupe_key, openid=msg.openid,
                                 text=full.replace(MORE_HINT, ""))
            else:
                self._keep_rest(s, msg.openid, split_text(full, MAX_TEXT_BYTES, hint=MORE_HINT))
        log.info("wechat answer missed the deadline: sent later", extra={
            "event": "wechat.deferred_answer", "openid_ref": msg.openid_ref, "ms": elapsed,
            "via": "custom_send" if self.api is not None else "more"})
        if self.worker is not None:
            self.worker.wake()

    # --- the database is down: answered unclaimed -------------------------------------------
    def answer_unclaimed(self, msg, race: _Race, turn: _Turn) -> str | None:
        """`answer` for a message that could not be claimed. Nothing is stored unless it has to
        be (the rest of a long answer, a late answer) and the database is back by then."""
        try:
            return self._answer_unclaimed(msg, race, turn)
        finally:
            turn.done()

    def _answer_unclaimed(self, msg, race: _Race, turn: _Turn) -> str | None:
        started = time.monotonic()
        out = self.compute(msg, turn)
        elapsed = round((time.monotonic() - started) * 1000, 1)
        if not race.finish():
            self._late_unclaimed(msg, out, race.reply_if_late, elapsed)
            return None
        if out.kind == "more":  # _more_parts read the database: it is back
            with self.db.session() as s:
                head, rest = self._passive(s, msg, out)
                self._keep_rest(s, msg.openid, rest)
        else:
            head, rest = self._passive(None, msg, out)
            if rest:  # a long answer: its rest waits for "详细" in the database, if it is back
                try:
                    with self.db.session() as s:
                        self._keep_rest(s, msg.openid, rest)
                except SQLAlchemyError as exc:
                    # Not offered then: "详细" would find nothing (or an older answer's rest).
                    head = head.replace(MORE_HINT, "")
                    log.warning("wechat: the rest of a long answer is dropped: %s", describe_error(exc),
                                extra={"event": "wechat.rest_dropped", "openid_ref": msg.openid_ref,
                                       "parts": len(rest)})
        log.info("wechat message answered", extra={
            "event": "wechat.answered", "openid_ref": msg.openid_ref, "msg_type": msg.msg_type,
            "ms": elapsed, "chars": len(msg.content or ""), "stored": False})
        return SUCCESS if head is None else self.render(msg, head)

    def _late_unclaimed(self, msg, out: Outcome, reply_if_late: str, elapsed: float) -> None:
        try:
            self._late(msg, out, reply_if_late, elapsed)  # the database is back: the outbox
            return
        except IntegrityError:
            log.info("wechat: a retry's late answer is already queued",
                     extra={"event": "wechat.deferred_duplicate", "openid_ref": msg.openid_ref})
            return
        except SQLAlchemyError as exc:
            log.warning("wechat: late answer not queued: %s", describe_error(exc),
                        extra={"event": "wechat.db_unavailable", "step": "late",
                               "openid_ref": msg.openid_ref})
        # Straight to the customer-service API (at most once: nothing would retry it).
        text = out.text if out.kind != "more" else None
        if not text or self.api is None:
            log.error("wechat: late answer lost while the database is down", extra={
                "event": "wechat.answer_lost", "openid_ref": msg.openid_ref, "ms": elapsed,
                "reason": "no API credentials" if text else "nothing to send"})
            return
        try:
            for part in split_text(text.replace(MORE_HINT, "")):
                self.api.send_text(msg.openid, part)
        except Exception as exc:  # noqa: BLE001 - WeChatApiError, or the token's database read
            log.error("wechat: late answer lost while the database is down", extra={
                "event": "wechat.answer_lost", "openid_ref": msg.openid_ref, "ms": elapsed,
                **error_fields(exc)})
            return
        log.info("wechat answer missed the deadline: sent at once, not queued", extra={
            "event": "wechat.deferred_answer", "openid_ref": msg.openid_ref, "ms": elapsed,
            "via": "custom_send_unqueued"})

    # --- the request ----------------------------------------------------------------------------
    async def _pipeline(self, msg, race: _Race, turn: _Turn, sig_timestamp: int, nonce: str,
                        deadline: float) -> str:
        submitted = False
        try:
            try:
                earlier = await run_in_threadpool(self.claim, msg, sig_timestamp=sig_timestamp, nonce=nonce)
            except SQLAlchemyError as exc:
                log.warning("wechat: database unavailable, message answered unclaimed: %s",
                            describe_error(exc), extra={"event": "wechat.db_unavailable", "step": "claim",
                                                        "openid_ref": msg.openid_ref})
                job = self.executor.submit(self.answer_unclaimed, msg, race, turn)
                submitted = True
                reply = await asyncio.wrap_future(job)
                return reply if reply is not None else race.reply_if_late
            except ForeignRow:
                # never another caller's reply: answer this message on its own, unclaimed
                job = self.executor.submit(self.answer_unclaimed, msg, race, turn)
                submitted = True
                reply = await asyncio.wrap_future(job)
                return reply if reply is not None else race.reply_if_late
            if earlier is not None:
                return await self._await_stored(msg, earlier, deadline, race.reply_if_late)
            job = self.executor.submit(self.answer, msg, race, turn)
            submitted = True  # the job gives the turn back
            reply = await asyncio.wrap_future(job)
            return reply if reply is not None else race.reply_if_late
        finally:
            if not submitted:
                turn.done()

    def _forget(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and not isinstance(task.exception(), ApiError):
            log.error("wechat message failed after the reply",
                      extra={"event": "wechat.background_error", **error_fields(task.exception())})

    async def handle(self, msg, *, sig_timestamp: int, nonce: str, started: float) -> str:
        """The plaintext reply for one authentic push (passive XML or "success").

        The claim and the answer run as one task; the request waits for it until the deadline
        only. The deadline is decided in memory (`_Race`), so replying at the deadline needs no
        database round-trip even when the database is what is slow."""
        deadline = started + self.deadline
        race = _Race(SUCCESS if self.api is not None else self.render(msg, PENDING_TEXT))
        turn = self.take_turn(msg.openid)  # here, before any await: arrival order
        task = asyncio.ensure_future(self._pipeline(msg, race, turn, sig_timestamp, nonce, deadline))
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        try:
            try:
                return await asyncio.wait_for(asyncio.shield(task), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                if race.give_up():
                    log.info("wechat deadline: replied now, answer follows", extra={
                        "event": "wechat.deadline", "openid_ref": msg.openid_ref})
                    return race.reply_if_late
                return await task  # the answer is being stored this very moment
        except ApiError:
            raise
        except Exception as exc:  # noqa: BLE001 - storing failed; answer anyway, a retry will wait
            log.error("wechat answer failed", extra={"event": "wechat.error",
                                                     "openid_ref": msg.openid_ref, **error_fields(exc)})
            return self.render(msg, FALLBACK_TEXT)
