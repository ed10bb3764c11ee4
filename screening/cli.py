"""`hotline screen ...`: screen a register, or make a synthetic one.

    hotline screen INPUT --as-of DATE --out OUTPUT [--workers N] [--receiving FILE] [--summary FILE]
    hotline screen synth --rows N --seed S --out FILE

(`synth` is a word, not a file: to screen a file named synth, write ./synth.)
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from datetime import date
from pathlib import Path

SCREEN_ONLY = ("as_of", "receiving", "summary", "errors", "gaps", "bom")
SYNTH_ONLY = ("rows", "seed")


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "按 20 条措施筛查低收入人口登记表，找出符合条件但尚未享受的家庭。"
        " Screen a low-income register (CSV or Parquet, one Facts field per column, lists as"
        " `;`-separated codes, empty cell = unknown) with policy_kb, or `synth` to generate one."
    )
    parser.add_argument("input", metavar="INPUT|synth", help="登记表 register file (.csv/.parquet), or `synth`")
    parser.add_argument("--out", required=True, help="输出文件 output file (.csv or .parquet)")
    parser.add_argument("--as-of", dest="as_of", help="筛查日期 screening date YYYY-MM-DD (a row's own as_of wins)")
    parser.add_argument("--workers", type=int, default=None, help="工作进程数 worker processes (default: all cores)")
    parser.add_argument("--receiving", help="在领名单 CSV/Parquet with household_id,measure: report eligible but not receiving")
    parser.add_argument("--summary", help="分县汇总 per-county summary file (.csv/.parquet/.json; default OUTPUT.summary.csv)")
    parser.add_argument("--errors", help="有误行报告 bad-row report (.csv/.parquet; default OUTPUT.errors.csv)")
    parser.add_argument("--gaps", help="应享未享名单 eligible-but-not-receiving list (default OUTPUT.not_receiving.csv)")
    parser.add_argument("--encoding", default="utf-8", help="CSV 编码 CSV encoding (utf-8, gbk, gb18030 …)")
    parser.add_argument("--bom", action="store_true",
                        help="CSV 输出带 UTF-8 BOM，Excel 可直接打开 write CSV outputs with a UTF-8 BOM (for Excel)")
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show the progress bar")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show the progress bar")
    parser.add_argument("--rows", type=int, help="synth: 户数 number of households")
    parser.add_argument("--seed", type=int, help="synth: 随机种子 random seed (default 0)")
    parser.set_defaults(_parser=parser)


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, stream=None, total_rows: int | None = None):
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.last = 0.0
        self.total_rows = total_rows

    def __call__(self, rows: int, fraction: float | None) -> None:
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        rate = rows / elapsed
        if fraction is None and self.total_rows:
            fraction = rows / self.total_rows
        if fraction:
            width = 30
            filled = int(width * fraction)
            eta = elapsed * (1 - fraction) / fraction if fraction > 0 else 0
            text = f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:6.1%} {rows:,} 户 {rate:,.0f}/s 剩余 {eta:,.0f}s "
        else:
            text = f"\r{rows:,} 户 {rate:,.0f}/s "
        self.stream.write(text)
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\033[K")
        self.stream.flush()


def _cancelled():
    import pyarrow as pa

    return pa.ArrowCancelled


def _interrupt(signum, _frame):
    # SIGTERM behaves like Ctrl-C: unwind, so temporary files are removed and workers stopped.
    raise KeyboardInterrupt(f"signal {signum}")


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args._parser
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be ≥ 1")
    if args.input == "synth":
        given = [name for name in SCREEN_ONLY if getattr(args, name)]
        if given:
            parser.error(f"synth does not take --{given[0].replace('_', '-')}")
        return _synth(args, parser)
    given = [name for name in SYNTH_ONLY if getattr(args, name) is not None]
    if given:
        parser.error(f"--{given[0]} is for `hotline screen synth`")
    if not args.as_of:
        parser.error("--as-of DATE is required (the day the screening is about, YYYY-MM-DD)")
    try:
        as_of = date.fromisoformat(args.as_of)
    except ValueError:
        parser.error(f"--as-of: not a date YYYY-MM-DD: {args.as_of!r}")
    return _screen(args, as_of)


def _synth(args, parser) -> int:
    from screening.engine import cpu_count
    from screening.synth import write_register
    from screening.tabular import TabularError

    if args.rows is None or args.rows < 0:
        parser.error("synth needs --rows N (N ≥ 0)")
    started = time.monotonic()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        write_register(args.out, args.rows, args.seed or 0, workers=args.workers or cpu_count())
    except TabularError as exc:
        print(f"hotline screen synth: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断，未写出文件 interrupted; nothing written", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(f"已生成 {args.rows:,} 户合成数据 wrote {args.rows:,} synthetic households to {args.out} "
          f"in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return 0


def _screen(args, as_of: date) -> int:
    from screening.engine import ScreenError, cpu_count, screen, stderr_echo

    show = sys.stderr.isatty() if args.progress is None else args.progress
    bar = ProgressBar() if show else None

    def echo(message: str) -> None:
        if bar:
            bar.clear()
        stderr_echo(message)

    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        outcome = screen(
            args.input, args.out, as_of=as_of, workers=args.workers or cpu_count(),
            receiving_path=args.receiving, summary_path=args.summary, errors_path=args.errors,
            gaps_path=args.gaps, encoding=args.encoding, progress=bar, echo=echo, bom=args.bom,
        )
    except ScreenError as exc:
        print(f"hotline screen: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, _cancelled()):
        # pyarrow turns a Ctrl-C that lands inside its own reading into ArrowCancelled.
        if bar:
            bar.clear()
        print("已中断，输出文件未改动 interrupted; no output file was written or changed", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    if bar:
        bar.clear()
    _report(outcome, Path(args.out))
    return 0


def _report(outcome, out: Path) -> None:
    rate = outcome.rows_read / outcome.seconds if outcome.seconds else 0
    lines = [
        f"筛查完成 screened {outcome.households:,} households in {outcome.seconds:.1f}s ({rate:,.0f}/s; "
        f"CPU {outcome.parent_cpu_seconds:.1f}s main + {outcome.workers_cpu_seconds:.1f}s workers)",
        f"有误跳过 bad rows skipped: {outcome.bad_rows:,}" + (f" → {outcome.outputs['errors']}" if outcome.bad_rows else ""),
    ]
    if outcome.receiving_problems:
        lines.append(f"在领名单有误行 bad receiving-list lines skipped: {len(outcome.receiving_problems):,}")
    if "not_receiving" in outcome.outputs:
        lines.append(f"在领名单中不在登记表的户 receiving households not in the register: {outcome.unmatched_receiving:,}")
    header = f"{'县（市、区）':<10}{'户数':>10}{'符合任一项':>10}{'待补信息':>10}{'金额（元）':>16}"
    has_gaps = "not_receiving" in outcome.outputs
    if has_gaps:
        header += f"{'应享未享户':>10}"
    lines.append(header)
    import policy_kb

    order = {c.name: k for k, c in enumerate(policy_kb.counties())}
    for county, c in sorted(outcome.counts.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])):
        line = f"{county:<10}{c[1]:>12,}{c[2]:>14,}{c[3]:>12,}{c[5]:>18,.0f}"
        if has_gaps:
            line += f"{c[8]:>14,}"
        lines.append(line)
    for name, path in outcome.outputs.items():
        lines.append(f"{name}: {path}")
    print("\n".join(lines))
