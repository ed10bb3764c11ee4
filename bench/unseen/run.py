"""Drive bench/unseen/conversations.yaml through the running system (make run) and score it.

    .venv/bin/python bench/unseen/run.py [--base http://127.0.0.1:8000] [--only u01,u07] [--out FILE]

Each conversation gets a fresh sender. Facts are read back with GET /api/v1/conversations/{sender}
(admin token) and compared field by field: right, wrong (a different value, or a fact nobody
said), missed (not understood). Replies are checked against `mention` / `avoid` and the turn-level
checks; a turn with no reply at all counts as unhelpful.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from pathlib import Path

import httpx
import yaml

HERE = Path(__file__).resolve().parent
# filled in by the system itself or said implicitly by every caller: never scored as extra
DERIVED = {"as_of", "city", "urgent_reason"}
STATUS_FIELDS = ("statuses", "not_statuses")


def token(client: httpx.Client, password: str) -> str:
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": password})
    r.raise_for_status()
    return r.json()["access_token"]


def value_ok(expected, actual) -> bool:
    if isinstance(expected, dict) and "between" in expected:
        lo, hi = expected["between"]
        return isinstance(actual, (int, float)) and lo <= actual <= hi
    if isinstance(expected, dict) and "prefix" in expected:
        return isinstance(actual, str) and actual.startswith(expected["prefix"])
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)) \
            and not isinstance(expected, bool) and not isinstance(actual, bool):
        return abs(expected - actual) < 0.5
    return expected == actual


def score_facts(expected: dict, actual: dict, ignore: list[str]) -> dict:
    right, wrong, missed = [], [], []
    for field, want in expected.items():
        if field in STATUS_FIELDS:
            other = "not_statuses" if field == "statuses" else "statuses"
            for code in want:
                if code in (actual.get(field) or []):
                    right.append(f"{field}.{code}")
                elif code in (actual.get(other) or []):
                    wrong.append(f"{field}.{code} (in {other})")
                else:
                    missed.append(f"{field}.{code}")
            continue
        if actual.get(field) is None:
            missed.append(field)
        elif value_ok(want, actual[field]):
            right.append(field)
        else:
            wrong.append(f"{field}={actual[field]!r} (want {want!r})")
    # facts the caller never said
    for field, got in actual.items():
        if field in DERIVED or field in ignore or got is None:
            continue
        if field in STATUS_FIELDS:
            for code in got or []:
                if code not in (expected.get(field) or []):
                    other = "not_statuses" if field == "statuses" else "statuses"
                    if code in (expected.get(other) or []):
                        continue  # already counted as wrong above
                    wrong.append(f"extra {field}.{code}")
        elif field not in expected:
            wrong.append(f"extra {field}={got!r}")
    return {"right": right, "wrong": wrong, "missed": missed}


_THOUSANDS = re.compile(r"(?<=[0-9]),(?=[0-9]{3})")


def groups_missing(groups: list[list[str]], text: str) -> list[list[str]]:
    text = _THOUSANDS.sub("", text)  # the bot writes 2,400元
    return [g for g in groups or [] if not any(s in text for s in g)]


def run_one(client: httpx.Client, headers: dict, conv: dict, run_id: str) -> dict:
    sender = f"unseen-{conv['id']}-{run_id}"
    transcript, reply_problems = [], []
    for turn in conv["turns"]:
        turn = {"say": turn} if isinstance(turn, str) else turn
        t0 = time.monotonic()
        r = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": turn["say"]})
        r.raise_for_status()
        texts = [m.get("text", "") for m in r.json() if m.get("text")]
        reply = "\n".join(texts)
        transcript.append({"user": turn["say"], "bot": reply, "seconds": round(time.monotonic() - t0, 2)})
        if not reply.strip():
            reply_problems.append(f"no reply to {turn['say']!r}")
        for g in groups_missing(turn.get("mention"), reply):
            reply_problems.append(f"reply to {turn['say']!r} lacks one of {g}")
        for s in turn.get("avoid") or []:
            if s in _THOUSANDS.sub("", reply):
                reply_problems.append(f"reply to {turn['say']!r} says {s!r}")
    everything = "\n".join(t["bot"] for t in transcript)
    for g in groups_missing(conv.get("mention"), everything):
        reply_problems.append(f"replies lack one of {g}")
    for s in conv.get("avoid") or []:
        if s in _THOUSANDS.sub("", everything):
            reply_problems.append(f"replies say {s!r}")

    r = client.get(f"/api/v1/conversations/{sender}", headers=headers)
    view = r.json() if r.status_code == 200 else {"facts": {}, "tickets": []}
    facts = view.get("facts") or {}
    score = score_facts(conv.get("facts") or {}, facts, conv.get("ignore") or [])
    if "ticket" in conv:
        has = bool(view.get("tickets"))
        if has != conv["ticket"]:
            reply_problems.append("no urgent ticket opened" if conv["ticket"] else "an urgent ticket was opened")
    return {"id": conv["id"], "note": conv.get("note", ""), "sender": sender, "facts": facts,
            "score": score, "reply_problems": reply_problems, "transcript": transcript,
            "tickets": [{k: t.get(k) for k in ("id", "county", "urgent_reason", "status")}
                        for t in view.get("tickets") or []]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8000")
    ap.add_argument("--password", default=os.environ.get("HOTLINE_ADMIN_PASSWORD", "adminpw"))
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    ap.add_argument("-v", "--verbose", action="store_true", help="print every transcript")
    args = ap.parse_args(argv)

    convs = yaml.safe_load((HERE / "conversations.yaml").read_text(encoding="utf-8"))
    if args.only:
        wanted = set(args.only.split(","))
        convs = [c for c in convs if c["id"] in wanted]
    run_id = uuid.uuid4().hex[:6]
    results = []
    with httpx.Client(base_url=args.base, timeout=60) as client:
        headers = {"Authorization": f"Bearer {token(client, args.password)}"}
        for conv in convs:
            res = run_one(client, headers, conv, run_id)
            results.append(res)
            s = res["score"]
            flag = "" if not (s["wrong"] or s["missed"] or res["reply_problems"]) else "  <--"
            print(f"{res['id']}  right {len(s['right']):2d}  wrong {len(s['wrong'])}  "
                  f"missed {len(s['missed'])}  reply problems {len(res['reply_problems'])}{flag}")
            for w in s["wrong"]:
                print(f"      wrong:  {w}")
            for m in s["missed"]:
                print(f"      missed: {m}")
            for p in res["reply_problems"]:
                print(f"      reply:  {p}")
            if args.verbose or res["reply_problems"]:
                for t in res["transcript"]:
                    print(f"      > {t['user']}\n        {t['bot'][:400].replace(chr(10), ' / ')}")
    tot = {k: sum(len(r["score"][k]) for r in results) for k in ("right", "wrong", "missed")}
    bad = sum(1 for r in results if r["reply_problems"])
    n_prob = sum(len(r["reply_problems"]) for r in results)
    print(f"\nTOTAL facts: right {tot['right']}  wrong {tot['wrong']}  missed {tot['missed']}  "
          f"(precision {tot['right'] / max(1, tot['right'] + tot['wrong']):.2f}, "
          f"recall {tot['right'] / max(1, tot['right'] + tot['missed']):.2f}); "
          f"conversations with reply problems {bad}/{len(results)} ({n_prob} problems)")
    Path(args.out).write_text(json.dumps({"total": tot, "reply_problem_conversations": bad,
                                          "results": results}, ensure_ascii=False, indent=1),
                              encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
