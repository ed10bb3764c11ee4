"""Score one held-out conversation set against a running service (the shared runner from unseen4 on).

    .venv/bin/python bench/unseen_run.py bench/unseen4 [--base http://127.0.0.1:8000] [--only ID]
    bench/unseen_stack.sh bench/unseen4          (a system of its own on 8011, day 2022-07-01)

Reads every *.yaml file in the set's directory that holds `conversations:` (format: the comment at
the top of bench/unseen3/conversations.yaml). Per conversation it plays the caller's turns over
/webhooks/rest/webhook, reads what the service understood (GET /api/v1/conversations/{sender}) and
scores facts (right / wrong / spurious / missed) and replies (no reply, fallback, a repeated reply,
missing mentions, forbidden strings, a ticket missing, not told, or opened where none was expected).
A conversation is *fully right* when it has no problem of either kind: the figure issue 12 asks for.
Writes results.json and score.txt in the set's directory.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
import uuid
from pathlib import Path

import httpx
import yaml

IGNORED = {"as_of", "city", "urgent_reason"}
FREE_TEXT = {"urgent_reason"}  # the caller's own words: never compared for equality
# Facts fields named by contract §1; other fields the project adds are shown, not scored.
CONTRACT_FIELDS = {
    "county", "residence", "household_size", "statuses", "not_statuses", "employment",
    "months_without_income", "unemployment_insurance", "can_return_to_work", "covid_confirmed",
    "quarantined_member", "medical_out_of_pocket", "severe_disability", "severe_illness",
    "cannot_self_care", "age", "reemployed", "rigid_expenses", "stranded", "urgent",
}
# Phrases of a bot that did not understand; a short reply made of these is unhelpful.
FALLBACK = ("没听懂", "没太听懂", "没听明白", "不太明白", "没理解", "换个说法", "再说一遍", "听不懂")


def matches(expected, got) -> bool:
    if isinstance(expected, dict) and ("min" in expected or "max" in expected):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and \
            expected.get("min", got) <= got <= expected.get("max", got)
    if isinstance(expected, dict) and "any" in expected:
        return any(matches(e, got) for e in expected["any"])
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected is got
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        return abs(expected - got) < 1e-6
    return expected == got


def score_facts(expected: dict, optional: dict, got: dict) -> dict:
    right, wrong, missed, spurious = [], [], [], []
    # (an ignored field is still scored where the set expects it: 到2024年3月 names the day asked about)
    got = {k: v for k, v in (got or {}).items()
           if (k not in IGNORED or k in expected or k in optional) and k not in FREE_TEXT and v is not None}
    held, not_held = set(got.get("statuses") or []), set(got.get("not_statuses") or [])
    for key, other_set, own_set in (("statuses", not_held, held), ("not_statuses", held, not_held)):
        exp, opt = set(expected.get(key) or []), set(optional.get(key) or [])
        opposite = "not_statuses" if key == "statuses" else "statuses"
        for code in sorted(exp):
            if code in own_set:
                right.append(f"{key}.{code}")
            elif code in other_set:
                wrong.append(f"{key}.{code} (in the opposite list)")
            else:
                missed.append(f"{key}.{code}")
        for code in sorted(own_set - exp - opt):
            if code not in set(expected.get(opposite) or []):  # else already counted as wrong
                spurious.append(f"{key}.{code}")
    for field, value in expected.items():
        if field in ("statuses", "not_statuses"):
            continue
        if field not in got:
            missed.append(field)
        elif matches(value, got[field]):
            right.append(field)
        else:
            wrong.append(f"{field}={got[field]!r} (expected {value!r})")
    for field, value in optional.items():
        if field in ("statuses", "not_statuses") or field in expected or field not in got:
            continue
        if not matches(value, got[field]):
            wrong.append(f"{field}={got[field]!r} (acceptable {value!r})")
    for field, value in got.items():
        if field in ("statuses", "not_statuses") or field in expected or field in optional:
            continue
        if field in CONTRACT_FIELDS:
            spurious.append(f"{field}={value!r}")
    return {"right": right, "wrong": wrong, "missed": missed, "spurious": spurious}


def normalise(text: str) -> str:
    # 1,950 / 1 950 → 1950 so figures are found however they are typeset
    return re.sub(r"(?<=\d)[,，\s](?=\d{3})", "", text)


def check_replies(conv: dict, replies: list[list[str]], tickets: list[dict]) -> list[str]:
    problems = []
    joined = normalise("\n".join(t for turn in replies for t in turn))
    for i, turn in enumerate(replies):
        text = "".join(turn).strip()
        if not text:
            problems.append(f"turn {i + 1}: no reply")
        elif any(p in text for p in FALLBACK) and len(text) < 60:
            problems.append(f"turn {i + 1}: fallback reply")
        elif i > 0 and text == "".join(replies[i - 1]).strip():
            problems.append(f"turn {i + 1}: same reply as the turn before")
    for group in conv.get("mentions") or []:
        if not any(normalise(str(alt)) in joined for alt in group):
            problems.append(f"missing mention {'/'.join(map(str, group))}")
    for bad in conv.get("must_not") or []:
        if normalise(str(bad)) in joined:
            problems.append(f"should not say {bad}")
    if conv.get("expect_ticket"):
        if not tickets:
            problems.append("no ticket opened")
        else:
            ids = {str(t.get(k)) for t in tickets for k in ("id", "number", "code", "ticket_no")
                   if t.get(k) is not None}
            if not any(i in joined for i in ids):
                problems.append(f"ticket number {sorted(ids)} not told to the caller")
    elif tickets:
        # a ticket nobody needed takes a county officer away from one who does
        problems.append(f"ticket opened where none was expected ({tickets[0].get('urgent_reason')!r})")
    return problems


def load_set(set_dir: Path) -> list[dict]:
    convs = []
    for path in sorted(set_dir.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(data, dict) and isinstance(data.get("conversations"), list):
            convs.extend(data["conversations"])
    ids = [c["id"] for c in convs]
    if len(ids) != len(set(ids)):
        raise SystemExit(f"{set_dir}: conversation ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    return convs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--base", default="http://127.0.0.1:8000")
    ap.add_argument("--only", help="run just the conversation with this id")
    args = ap.parse_args(argv)
    set_dir = args.set_dir.resolve()
    convs = load_set(set_dir)
    if not convs:
        raise SystemExit(f"{set_dir}: no *.yaml file with conversations")
    if args.only:
        convs = [c for c in convs if c["id"] == args.only]
    client = httpx.Client(base_url=args.base, timeout=120)
    token = client.post("/api/v1/auth/token",
                        data={"username": "admin", "password": "adminpw"}).raise_for_status().json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    run_tag = uuid.uuid4().hex[:8]
    results, totals = [], {"right": 0, "wrong": 0, "missed": 0, "spurious": 0, "expected": 0}
    reply_problem_convs = fully_right = 0
    for conv in convs:
        sender = f"{set_dir.name}-{run_tag}-{conv['id']}"
        replies, transcript = [], []
        for msg in conv["turns"]:
            started = time.monotonic()
            r = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": msg})
            r.raise_for_status()
            texts = [m.get("text") or "" for m in r.json() if m.get("text")]
            replies.append(texts)
            transcript.append({"caller": msg, "bot": texts, "seconds": round(time.monotonic() - started, 2)})
        state = client.get(f"/api/v1/conversations/{sender}", headers=auth).raise_for_status().json()
        got, tickets = state.get("facts") or {}, state.get("tickets") or []
        fs = score_facts(conv.get("facts") or {}, conv.get("optional") or {}, got)
        expected_n = sum(len(v) if isinstance(v, list) else 1 for v in (conv.get("facts") or {}).values())
        problems = check_replies(conv, replies, tickets)
        for k in ("right", "wrong", "missed", "spurious"):
            totals[k] += len(fs[k])
        totals["expected"] += expected_n
        reply_problem_convs += bool(problems)
        ok = not problems and not (fs["wrong"] or fs["spurious"] or fs["missed"])
        fully_right += ok
        results.append({"id": conv["id"], "sender": sender, "fully_right": ok, "facts_expected": conv.get("facts"),
                        "facts_got": got, "facts_score": fs, "reply_problems": problems,
                        "tickets": [{"id": t.get("id"), "county": t.get("county"),
                                     "urgent_reason": t.get("urgent_reason")} for t in tickets],
                        "transcript": transcript})
        print(f"{conv['id']:<6} {'OK ' if ok else '-- '} facts {len(fs['right'])}/{expected_n}"
              f" wrong={fs['wrong'] + fs['spurious']} missed={fs['missed']}"
              f" | replies: {'ok' if not problems else '; '.join(problems)}", flush=True)
    bad = totals["wrong"] + totals["spurious"]
    precision = totals["right"] / (totals["right"] + bad) if totals["right"] + bad else 0.0
    recall = totals["right"] / totals["expected"] if totals["expected"] else 0.0
    summary = (f"conversations {len(convs)}; fully right {fully_right} ({fully_right / len(convs):.0%}); "
               f"facts expected {totals['expected']}, right {totals['right']}, wrong {totals['wrong']}, "
               f"spurious {totals['spurious']}, missed {totals['missed']}; precision {precision:.3f} "
               f"recall {recall:.3f}; conversations with reply problems {reply_problem_convs}/{len(convs)}")
    print(summary)
    if not args.only:
        (set_dir / "results.json").write_text(json.dumps(
            {"summary": summary, "totals": totals, "fully_right": fully_right, "results": results},
            ensure_ascii=False, indent=1), encoding="utf-8")
        lines = [summary, ""]
        for res in results:
            fs = res["facts_score"]
            lines.append(f"{res['id']}: {'OK' if res['fully_right'] else '--'} right={len(fs['right'])} "
                         f"wrong={fs['wrong']} spurious={fs['spurious']} missed={fs['missed']} "
                         f"replies={res['reply_problems'] or 'ok'}")
        (set_dir / "score.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
