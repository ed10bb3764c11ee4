"""Screening engine: evaluate register batches in worker processes, in input order.

The parent reads the register batch by batch (pyarrow), hands each batch to a worker process
and writes the results in input order, so the output is the same for any number of workers.
At most `2 × workers` batches are in flight, which bounds the parent's memory whatever the
size of the register. Each household is judged by `policy_kb.decide`, the decisions that
`policy_kb.evaluate` writes out: the batch result is, row by row, exactly what `evaluate` says
(tests/screening check it). Households share verdicts, so a row is put together from parts
made once per verdict (`_part`)."""
from __future__ import annotations

import multiprocessing
import os
import re
import signal
import sys
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa

import policy_kb
from screening.columns import ID_COLUMN, CellError, RowReader, fact_types
from screening.tabular import AtomicPath, BatchWriter, TabularError, file_format, open_register, write_small_table

UNKNOWN_COUNTY = "（未知）"
SHOWN_BAD_ROWS = 20  # bad rows echoed on stderr; all of them go to the errors file

# Long digit runs in a report (an ID-card or phone number typed into the wrong column, or used
# as a household id) are masked: the report is a list that gets passed around.
_PERSONAL_NUMBER = re.compile(r"\d{11,}[\dXx]?")


def mask(text):
    if text is None:
        return None
    return _PERSONAL_NUMBER.sub(lambda m: m.group()[:3] + "*" * (len(m.group()) - 5) + m.group()[-2:], str(text))


class ScreenError(Exception):
    """The run cannot start (missing column, unreadable file, bad option)."""


# ---------------------------------------------------------------------------------------------
# What one household's evaluation becomes in the output


@dataclass(frozen=True)
class Layout:
    """The output's columns, fixed before the first row so every batch has the same schema."""

    measure_ids: tuple[int, ...]
    titles: dict
    receiving: bool

    def schema(self) -> pa.Schema:
        columns = [
            (ID_COLUMN, pa.string()), ("county", pa.string()), ("city", pa.string()),
            ("as_of", pa.string()), ("in_force", pa.bool_()), ("urgent", pa.bool_()),
            ("eligible", pa.string()), ("eligible_count", pa.int32()),
            ("total_yuan", pa.float64()), ("total_at_least", pa.bool_()), ("total_complete", pa.bool_()),
            ("need_info", pa.string()), ("missing", pa.string()), ("ask_next", pa.string()),
        ]
        if self.receiving:
            columns.append(("not_receiving", pa.string()))
        for mid in self.measure_ids:
            columns += [(f"m{mid}_amount", pa.string()), (f"m{mid}_total", pa.float64())]
        return pa.schema(columns)

    def summary_schema(self) -> pa.Schema:
        columns = [
            ("county", pa.string()), ("city", pa.string()), ("households", pa.int64()),
            ("eligible_any", pa.int64()), ("need_info_any", pa.int64()), ("urgent", pa.int64()),
            ("total_yuan", pa.float64()), ("households_total_incomplete", pa.int64()),
        ]
        columns += [(f"eligible_m{mid}", pa.int64()) for mid in self.measure_ids]
        if self.receiving:
            columns.append(("not_receiving_households", pa.int64()))
            columns += [(f"not_receiving_m{mid}", pa.int64()) for mid in self.measure_ids]
        return pa.schema(columns)


def _fmt(x) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


_PER = {"person": "人", "household": "户", "case": "次"}
_FREQ = {"once": "", "monthly": "/月", "yearly": "/年"}


def render_amount(a: dict) -> str:
    """One amount as text: `≥1950元/人 ×3=5850` (household size known) or `600元/人`."""
    floor = "≥" if a.get("at_least") else ""
    text = f"{floor}{_fmt(a['value'])}元/{_PER.get(a.get('per'), a.get('per'))}{_FREQ.get(a.get('frequency'), '/' + str(a.get('frequency')))}"
    if a.get("total") is not None and a.get("per") == "person":
        text += f"，全户{floor}{_fmt(a['total'])}元"
    return text


# Parts of rows by the identity of a plan entry; the entry is kept, so its id is never reused
# while it is here. Bounded like policy_kb's own caches.
_PARTS: dict = {}
_PARTS_MAX = 200_000


def _part(mid: int, entry: tuple):
    """What one measure's decision adds to a row: None (neither eligible nor need_info),
    (True, amount text, once total, total complete, at least) or (False, "mid=missing")."""
    if len(_PARTS) >= _PARTS_MAX:
        _PARTS.clear()
    status, _, missing, amounts = entry[:4]
    if status == "need_info":
        return (False, f"{mid}=" + ",".join(missing))
    if status != "eligible":
        return None
    text = "；".join([render_amount(a) for a in amounts]) if amounts else None
    once = [a for a in amounts if a["frequency"] == "once"]
    totals = [a["total"] for a in once]
    complete = None not in totals
    once_total = float(sum(totals)) if once and complete else None
    return (True, text, once_total, complete, any(a["at_least"] for a in once))


def _joined(items):
    # An empty list is written as an empty cell (null), the same in CSV and Parquet.
    return ";".join(map(str, items)) if items else None


# ---------------------------------------------------------------------------------------------
# The worker side


@dataclass
class BatchResult:
    seq: int
    start: int
    rows: int
    batch: pa.RecordBatch
    bad: list  # (row index, household_id, field, reason)
    counts: dict  # county -> counters (see Tally)
    gaps: dict | None  # columns of the eligible-but-not-receiving list
    matched_receiving: list = field(default_factory=list)


_CONFIG: dict = {}
_STOPPING = False  # set in a worker by the parent's SIGTERM


class WorkerStopped(RuntimeError):
    """A worker abandoned its batch because the run was interrupted."""


def _stop_soon(_signum, _frame) -> None:
    # Only a flag: a worker killed while writing its result to the pipe would leave half a
    # message there, and the pool's result reader would wait for the rest forever.
    global _STOPPING
    _STOPPING = True


def init_worker(config: dict) -> None:
    # Ctrl-C goes to the whole process group; only the parent decides what to do about it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_soon)
    _CONFIG.clear()
    _CONFIG.update(config)
    _exit_with_parent()


def _exit_with_parent() -> None:
    # A parent killed outright (SIGKILL, OOM) cannot stop its workers; they would wait on the
    # task queue forever. Each worker watches its parent and leaves when it is gone.
    import threading
    import time

    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def screen_batch(task) -> BatchResult:
    """Evaluates one batch of register rows; returns the output rows in input order.

    Money: `m{id}_total` and `total_yuan` add up the household totals of one-off payments
    (`frequency` once) of eligible measures, exactly as policy_kb states them. Recurring
    standards (the dibao or orphan standard a household is assessed against) are shown in
    `m{id}_amount` only: they are not a sum the household is owed. A total policy_kb cannot
    state (household size unknown) leaves `total_yuan` empty and `total_complete` false:
    unknown is not zero.
    """
    seq, start, batch = task
    cfg = _CONFIG
    layout: Layout = cfg["layout"]
    as_of: date = cfg["as_of"]
    receiving: dict | None = cfg.get("receiving")
    measure_ids = layout.measure_ids
    n = batch.num_rows
    names = batch.schema.names
    columns = {name: batch.column(i).to_pylist() for i, name in enumerate(names)}
    facts_list, cell_errors = RowReader(names).convert(columns, n)
    ids = columns[ID_COLUMN]

    # Dense columns grow row by row; the per-measure ones are mostly empty, so they are
    # preallocated and only the eligible measures' cells are set.
    o_id, o_county, o_city, o_as_of, o_in_force, o_urgent = [], [], [], [], [], []
    o_eligible, o_count, o_total, o_at_least, o_complete = [], [], [], [], []
    o_need, o_missing, o_ask, o_gap = [], [], [], []
    amount_col = {mid: [None] * n for mid in measure_ids}
    total_col = {mid: [None] * n for mid in measure_ids}
    bad, counts, matched = [], {}, []
    gaps = {"county": [], ID_COLUMN: [], "measure": [], "title": [], "total_yuan": []} if receiving is not None else None
    n_measures = len(measure_ids)
    index_of = {mid: k for k, mid in enumerate(measure_ids)}
    decide, InvalidFacts = policy_kb.decide, policy_kb.InvalidFacts
    resolve_county, resolve_city = policy_kb.resolve_county, policy_kb.resolve_city
    k = 0  # output row
    parts = _PARTS  # a measure's decision -> its share of the row; households share decisions
    days: dict = {}  # day -> (as_of text, in force)
    places: dict = {}  # (county, city) as written -> canonical (county, city)

    for i in range(n):
        if _STOPPING:
            raise WorkerStopped("interrupted")
        hid = ids[i]
        if hid is not None:
            hid = str(hid).strip() or None
        facts = facts_list[i]
        try:
            if facts is None:
                raise cell_errors[i]
            if hid is None:
                if not facts and all(columns[c][i] is None for c in names):
                    continue  # a blank line is not a household
                raise CellError(ID_COLUMN, "缺少户编号 household_id is empty")
            decision = decide(facts, today=as_of)
        except (CellError, InvalidFacts) as exc:
            bad.append((start + i, hid, exc.field, exc.message))
            continue
        except Exception as exc:  # noqa: BLE001 - one household's failure must not stop the run
            bad.append((start + i, hid, None, f"内部错误 internal error: {type(exc).__name__}: {exc}"))
            continue

        plan = decision.plan
        eligible, need_info, missing = [], [], []
        total, at_least, complete = 0, False, True
        for mid, entry in zip(measure_ids, plan.measures):
            got = parts.get(id(entry))
            if got is None or got[0] is not entry:
                got = parts[id(entry)] = (entry, _part(mid, entry))
            part = got[1]
            if part is None:
                continue
            if part[0]:  # eligible: (True, amount text, once total or None, complete, at least)
                eligible.append(mid)
                if part[1] is not None:
                    amount_col[mid][k] = part[1]
                if part[2] is not None:
                    total_col[mid][k] = part[2]
                    total += part[2]
                if not part[3]:
                    complete = False
                if part[4]:
                    at_least = True
            else:  # need_info: (False, "mid=missing,fields")
                need_info.append(mid)
                missing.append(part[1])
        urgent = plan.urgent
        day = days.get(decision.day)
        if day is None:
            day = days[decision.day] = (decision.day.isoformat(), policy_kb.in_force(decision.day))

        place = (facts.get("county"), facts.get("city"))
        where = places.get(place)
        if where is None:
            county = resolve_county(place[0]) if place[0] else None
            where = places[place] = (
                county.name if county else None,
                county.city if county else (resolve_city(place[1]) if place[1] else None))
        county_name, city = where
        o_id.append(hid)
        o_county.append(county_name)
        o_city.append(city)
        o_as_of.append(day[0])
        o_in_force.append(day[1])
        o_urgent.append(urgent)
        o_eligible.append(_joined(eligible))
        o_count.append(len(eligible))
        o_total.append(float(total) if complete else None)
        o_at_least.append(at_least)
        o_complete.append(complete)
        o_need.append(_joined(need_info))
        o_missing.append(";".join(missing) if missing else None)
        o_ask.append(_joined(plan.ask_next))

        key = county_name or UNKNOWN_COUNTY
        c = counts.get(key)
        if c is None:
            c = counts[key] = Tally.new(city, n_measures)
        c[1] += 1
        if eligible:
            c[2] += 1
            per_measure = c[7]
            for mid in eligible:
                per_measure[index_of[mid]] += 1
        if need_info:
            c[3] += 1
        if urgent:
            c[4] += 1
        c[5] += total
        if not complete:
            c[6] += 1
        if receiving is not None:
            got = receiving.get(hid)
            if got is not None:
                matched.append(hid)
            gap = [mid for mid in eligible if not got or mid not in got]
            o_gap.append(_joined(gap))
            if gap:
                c[8] += 1
                for mid in gap:
                    c[9][index_of[mid]] += 1
                    gaps["county"].append(county_name)
                    gaps[ID_COLUMN].append(hid)
                    gaps["measure"].append(mid)
                    gaps["title"].append(layout.titles[mid])
                    gaps["total_yuan"].append(total_col[mid][k])
        k += 1

    out = {
        ID_COLUMN: o_id, "county": o_county, "city": o_city, "as_of": o_as_of, "in_force": o_in_force,
        "urgent": o_urgent, "eligible": o_eligible, "eligible_count": o_count, "total_yuan": o_total,
        "total_at_least": o_at_least, "total_complete": o_complete, "need_info": o_need,
        "missing": o_missing, "ask_next": o_ask,
    }
    if receiving is not None:
        out["not_receiving"] = o_gap
    for mid in measure_ids:
        out[f"m{mid}_amount"] = amount_col[mid][:k]
        out[f"m{mid}_total"] = total_col[mid][:k]
    table = pa.RecordBatch.from_pydict(out, schema=layout.schema())
    return BatchResult(seq, start, n, table, bad, counts, gaps, matched)


class Tally:
    """Per-county counters as a plain list (cheap to pickle and add):
    [city, households, eligible_any, need_info_any, urgent, total_yuan, total_incomplete,
     eligible per measure, not_receiving households, not_receiving per measure]."""

    @staticmethod
    def new(city, n_measures):
        return [city, 0, 0, 0, 0, 0, 0, [0] * n_measures, 0, [0] * n_measures]

    @staticmethod
    def add(into: dict, part: dict) -> None:
        for county, c in part.items():
            t = into.get(county)
            if t is None:
                into[county] = [c[0], *c[1:7], list(c[7]), c[8], list(c[9])]
                continue
            t[0] = t[0] or c[0]
            for k in range(1, 7):
                t[k] += c[k]
            t[8] += c[8]
            for k, v in enumerate(c[7]):
                t[7][k] += v
            for k, v in enumerate(c[9]):
                t[9][k] += v


# ---------------------------------------------------------------------------------------------
# The parent side


@dataclass
class Outcome:
    households: int = 0
    rows_read: int = 0
    bad_rows: int = 0
    counts: dict = field(default_factory=dict)
    unmatched_receiving: int = 0
    receiving_problems: list = field(default_factory=list)
    outputs: dict = field(default_factory=dict)
    seconds: float = 0.0
    parent_cpu_seconds: float = 0.0
    workers_cpu_seconds: float = 0.0


def layout_for(as_of: date, receiving: bool) -> Layout:
    # The measure ids and titles come from policy_kb itself, not from a list kept here.
    ev = policy_kb.evaluate({}, today=as_of)
    ids = tuple(m["id"] for m in ev["measures"])
    return Layout(ids, {m["id"]: m["title"] for m in ev["measures"]}, receiving)


def ordered_map(executor, fn, tasks, window: int):
    """Like executor.map, in order, but with at most `window` tasks in flight."""
    pending = deque()
    for task in tasks:
        pending.append(executor.submit(fn, task))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _stop_workers(executor) -> None:
    # Interrupted: queued batches are cancelled, and the workers' SIGTERM (a flag, see
    # `_stop_soon`) makes them abandon the batch in hand, so they exit within a household
    # or two instead of finishing their batches; the pool then shuts down cleanly.
    processes = list((getattr(executor, "_processes", None) or {}).values())
    manager = getattr(executor, "_executor_manager_thread", None)
    executor.shutdown(wait=False, cancel_futures=True)  # forgets the processes and the manager
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    if manager is not None:
        _join_started(manager)


def _join_started(thread, patience: float = 5.0) -> None:
    # A signal can land inside the pool's first submit, while Thread.start() waits for the new
    # manager thread to report in; join() refuses a thread that has not yet done so. Give it a
    # moment to start (it normally does within milliseconds), and if start() itself was cut off
    # before the thread existed, there is nothing to wait for: the workers were terminated above.
    deadline = time.monotonic() + patience
    while True:
        try:
            thread.join()
            return
        except RuntimeError:
            if time.monotonic() >= deadline:
                return
            time.sleep(0.01)


def summary_table(layout: Layout, counts: dict) -> pa.Table:
    rows = []
    order = {c.name: k for k, c in enumerate(policy_kb.counties())}
    for county in sorted(counts, key=lambda c: (order.get(c, len(order)), c)):
        c = counts[county]
        row = {
            "county": county, "city": c[0], "households": c[1], "eligible_any": c[2],
            "need_info_any": c[3], "urgent": c[4], "total_yuan": float(c[5]),
            "households_total_incomplete": c[6],
        }
        for k, mid in enumerate(layout.measure_ids):
            row[f"eligible_m{mid}"] = c[7][k]
        if layout.receiving:
            row["not_receiving_households"] = c[8]
            for k, mid in enumerate(layout.measure_ids):
                row[f"not_receiving_m{mid}"] = c[9][k]
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=layout.summary_schema())


def default_side_path(output: Path, tag: str, suffix: str = ".csv") -> Path:
    stem = output.name
    for ext in (".csv", ".parquet", ".pq"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
            break
    return output.with_name(f"{stem}.{tag}{suffix}")


def screen(
    input_path, output_path, *, as_of: date, workers: int = 1, receiving_path=None,
    summary_path=None, errors_path=None, gaps_path=None, encoding: str = "utf-8",
    progress=None, echo=None, bom: bool = False,
) -> Outcome:
    """Screens `input_path` into `output_path` (and side files); see the module doc."""
    import resource
    import time

    started = time.monotonic()
    self0, kids0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    output_path = Path(output_path)
    summary_path = Path(summary_path) if summary_path else default_side_path(output_path, "summary")
    errors_path = Path(errors_path) if errors_path else default_side_path(output_path, "errors")
    if receiving_path is not None:
        gaps_path = Path(gaps_path) if gaps_path else default_side_path(output_path, "not_receiving")
    else:
        gaps_path = None
    targets = [p for p in (output_path, summary_path, errors_path, gaps_path) if p is not None]
    sources = {Path(p).resolve() for p in (input_path, receiving_path) if p is not None}
    try:
        for p, json_ok in zip(targets, (False, True, False, True)):
            file_format(p, allow_json=json_ok)
            if not p.parent.is_dir():
                raise ScreenError(f"输出目录不存在 no such directory: {p.parent}")
            if p.resolve() in sources:
                raise ScreenError(f"输出会覆盖输入文件 an output would overwrite an input file: {p}")
    except TabularError as exc:
        raise ScreenError(str(exc)) from None
    if len({p.resolve() for p in targets}) < len(targets):
        raise ScreenError("两个输出文件同名 two outputs have the same name: " + ", ".join(map(str, targets)))

    receiving = None
    outcome = Outcome()
    if receiving_path is not None:
        from screening.receiving import ReceivingError, load_receiving

        try:
            receiving, outcome.receiving_problems = load_receiving(
                receiving_path, layout_for(as_of, True).measure_ids)
        except ReceivingError as exc:
            raise ScreenError(str(exc)) from None
        if echo:
            for line, fld, reason in outcome.receiving_problems[:SHOWN_BAD_ROWS]:
                echo(f"在领名单第 {line} 行有误，已跳过 receiving list line {line}: "
                     + (f"{fld}: " if fld else "") + mask(reason))
    layout = layout_for(as_of, receiving is not None)

    try:
        register = open_register(input_path, encoding=encoding)
    except TabularError as exc:
        raise ScreenError(str(exc)) from None
    if ID_COLUMN not in register.columns:
        register.close()
        raise ScreenError(f"缺少 {ID_COLUMN} 列 the register has no {ID_COLUMN} column ({input_path})")
    types = fact_types()
    wanted = [c for c in register.columns if c == ID_COLUMN or c in types]
    ignored = [c for c in register.columns if c not in wanted]
    if echo and ignored:
        echo(f"忽略未知列 ignoring columns that are not Facts fields: {', '.join(ignored)}")

    writer = BatchWriter(output_path, layout.schema(), bom=bom)
    errors_writer = _ErrorsWriter(errors_path, register.unit, bom=bom)
    gap_tables: list[pa.Table] = []
    side: list[AtomicPath] = []
    config = {"layout": layout, "as_of": as_of, "receiving": receiving}
    matched: set = set()
    executor = None
    try:
        tasks = _tasks(register, wanted)
        if workers <= 1:
            init_config = dict(config)
            _CONFIG.clear()
            _CONFIG.update(init_config)
            results = map(screen_batch, tasks)
        else:
            executor = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker, initargs=(config,),
            )
            results = ordered_map(executor, screen_batch, tasks, 2 * workers)
        for res in results:
            writer.write(res.batch)
            outcome.rows_read += res.rows
            outcome.households += res.batch.num_rows
            Tally.add(outcome.counts, res.counts)
            matched.update(res.matched_receiving)
            for row, hid, fld, reason in res.bad:
                errors_writer.add(register.location(row), hid, fld, reason, echo)
            if res.gaps is not None and res.gaps["measure"]:
                gap_tables.append(pa.table(res.gaps).append_column(
                    "_seq", pa.array([res.seq] * len(res.gaps["measure"]), pa.int64())))
            if progress:
                progress(outcome.rows_read, register.fraction_read())
        for line, reason in register.malformed:
            errors_writer.add(line, None, None, reason, echo)
        outcome.bad_rows = errors_writer.count

        side.append(write_small_table(summary_path, summary_table(layout, outcome.counts), bom=bom))
        side.append(errors_writer.finish())
        outcome.outputs = {"output": output_path, "summary": summary_path, "errors": errors_path}
        if receiving is not None:
            side.append(_write_gaps(gaps_path, gap_tables, bom=bom))
            outcome.outputs["not_receiving"] = gaps_path
            outcome.unmatched_receiving = len(receiving.keys() - matched)
        for atomic in side:
            atomic.commit()
        writer.commit()
    except BaseException:
        if executor is not None:
            _stop_workers(executor)
            executor = None
        writer.discard()
        errors_writer.discard()
        for atomic in side:
            atomic.discard()
        raise
    finally:
        if executor is not None:
            executor.shutdown(wait=True)
        register.close()
    outcome.seconds = time.monotonic() - started
    self1, kids1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    outcome.parent_cpu_seconds = (self1.ru_utime - self0.ru_utime) + (self1.ru_stime - self0.ru_stime)
    outcome.workers_cpu_seconds = (kids1.ru_utime - kids0.ru_utime) + (kids1.ru_stime - kids0.ru_stime)
    return outcome


def _tasks(register, wanted):
    start = 0
    for seq, batch in enumerate(register.batches(wanted)):
        yield seq, start, batch
        start += batch.num_rows


def _write_gaps(path: Path, tables: list, *, bom: bool = False) -> AtomicPath:
    schema = pa.schema([("county", pa.string()), (ID_COLUMN, pa.string()), ("measure", pa.int64()),
                        ("title", pa.string()), ("total_yuan", pa.float64())])
    if tables:
        table = pa.concat_tables([t.cast(schema.append(pa.field("_seq", pa.int64()))) for t in tables])
        # Grouped by county (in the county table's order), input order within a county.
        order = {c.name: k for k, c in enumerate(policy_kb.counties())}
        rank = pa.array([order.get(c, len(order)) if c else len(order) for c in table.column("county").to_pylist()], pa.int32())
        table = table.append_column("_rank", rank)
        table = table.append_column("_row", pa.array(range(table.num_rows), pa.int64()))
        table = table.sort_by([("_rank", "ascending"), ("_row", "ascending")])
        table = table.select(schema.names)
    else:
        table = schema.empty_table()
    return write_small_table(path, table, bom=bom)


class _ErrorsWriter:
    """The bad-row report: streamed to the errors file (CSV or Parquet), the first few echoed."""

    FLUSH_ROWS = 10_000

    def __init__(self, path: Path, unit: str, *, bom: bool = False):
        self.unit = unit
        self.count = 0
        self.schema = pa.schema([(unit, pa.int64()), (ID_COLUMN, pa.string()), ("field", pa.string()),
                                 ("reason", pa.string())])
        self._writer = BatchWriter(path, self.schema, bom=bom)
        self._rows = self._empty()

    def _empty(self):
        return {name: [] for name in self.schema.names}

    def add(self, location, hid, fld, reason, echo) -> None:
        self.count += 1
        hid = mask(hid)
        reason = mask(reason)
        for name, value in zip(self.schema.names, (location, hid, fld, reason)):
            self._rows[name].append(value)
        if len(self._rows[ID_COLUMN]) >= self.FLUSH_ROWS:
            self._flush()
        if echo and self.count <= SHOWN_BAD_ROWS:
            where = f"第 {location} 行 {self.unit} {location}" if location is not None else "行号未知 line unknown"
            echo(f"跳过有误的行 skipped bad row: {where}" + (f" [{hid}]" if hid else "")
                 + (f" {fld}: " if fld else ": ") + reason)

    def _flush(self) -> None:
        self._writer.write(pa.RecordBatch.from_pydict(self._rows, schema=self.schema))
        self._rows = self._empty()

    def finish(self) -> BatchWriter:
        self._flush()
        self._writer.close()
        return self._writer

    def discard(self) -> None:
        self._writer.discard()


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def stderr_echo(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
