"""Seeded synthetic low-income registers, for tests and benchmarks.

No real person is in here: household ids are `H000001`…, every other value is drawn from
rough, plausible distributions (more rural households and more poverty-monitoring statuses in
the southern mountain counties, urban shares by county kind, skewed medical costs, some facts
unknown). The numbers below shape the synthetic population only; they are not policy figures
and nothing decides eligibility from them.

The register is generated in fixed blocks of `BLOCK` rows, each from its own seeded stream,
so (rows, seed) fixes the file whatever the number of worker processes.
"""
from __future__ import annotations

import math
import multiprocessing
import random
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pyarrow as pa

from policy_kb.tables import counties, vocabulary
from screening.columns import ID_COLUMN, fact_types, to_cell
from screening.tabular import BatchWriter, file_format

BLOCK = 10_000

# Rough resident populations (10,000s) — only to weight where synthetic households live.
_POPULATION = {
    "兴庆区": 80, "西夏区": 40, "金凤区": 40, "永宁县": 30, "贺兰县": 34, "灵武市": 30,
    "大武口区": 30, "惠农区": 20, "平罗县": 28, "利通区": 42, "红寺堡区": 20, "盐池县": 16,
    "同心县": 32, "青铜峡市": 28, "原州区": 47, "西吉县": 35, "隆德县": 15, "泾源县": 9,
    "彭阳县": 19, "沙坡头区": 40, "中宁县": 34, "海原县": 40,
}
# The southern mountain area (西海固 and neighbours): poorer, more rural.
_MOUNTAIN = {"原州区", "西吉县", "隆德县", "泾源县", "彭阳县", "海原县", "同心县", "红寺堡区"}
_URBAN_SHARE = {"district": 0.75, "county-level city": 0.45, "county": 0.25}
_SIZES = (1, 2, 3, 4, 5, 6, 7, 8)
_SIZE_WEIGHTS_URBAN = (0.26, 0.26, 0.22, 0.14, 0.07, 0.03, 0.015, 0.005)
_SIZE_WEIGHTS_RURAL = (0.18, 0.2, 0.19, 0.18, 0.12, 0.08, 0.035, 0.015)
_URGENT_REASONS = ("家中断粮，急需帮助", "在外务工被困，无钱返乡", "房屋受损，无处居住", "家人突发重病，无钱医治")

# The columns of a synthetic register, in the order of the Facts vocabulary.
_GENERATED = (
    "county", "city", "residence", "household_size", "statuses", "not_statuses", "employment",
    "months_without_income", "unemployment_insurance", "can_return_to_work", "covid_confirmed",
    "quarantined_member", "medical_out_of_pocket", "severe_disability", "severe_illness",
    "cannot_self_care", "age", "reemployed", "rigid_expenses", "stranded", "urgent", "urgent_reason",
)


def register_columns() -> list[str]:
    order = list(vocabulary()["fields"])
    return [ID_COLUMN] + sorted(_GENERATED, key=order.index)


def _county_table():
    table = []
    for c in counties():
        weight = _POPULATION.get(c.name, 20) * (2.5 if c.name in _MOUNTAIN else 1.0)
        urban = _URBAN_SHARE.get(c.kind, 0.4) * (0.6 if c.name in _MOUNTAIN else 1.0)
        table.append((c, weight, urban))
    return table


def _tri(rng: random.Random, p_true: float, p_unknown: float):
    """True / False / None (unknown)."""
    u = rng.random()
    if u < p_unknown:
        return None
    return rng.random() < p_true


def household(rng: random.Random, county_table, cum_weights) -> dict:
    """One synthetic household's Facts (unknown facts left out)."""
    f: dict = {}
    county, _, urban_share = rng.choices(county_table, cum_weights=cum_weights)[0]
    mountain = county.name in _MOUNTAIN
    u = rng.random()
    if u < 0.01:
        f["city"] = county.city  # only the city is on file
    elif u >= 0.015:
        f["county"] = county.name
    urban = rng.random() < urban_share
    if rng.random() >= 0.03:
        f["residence"] = "urban" if urban else "rural"

    # The person concerned: mostly working-age adults and elderly, a few minors (orphans).
    u = rng.random()
    if u < 0.03:
        age = rng.randint(0, 17)
    elif u < 0.58:
        age = rng.randint(18, 59)
    elif u < 0.88:
        age = rng.randint(60, 79)
    else:
        age = min(105, 80 + int(rng.expovariate(1 / 6)))
    if rng.random() >= 0.05:
        f["age"] = age

    held: set = set()
    if age < 18:
        r = rng.random()
        if r < 0.25:
            held.add("orphan_institutional")
        elif r < 0.75:
            held.add("orphan_scattered")
    if rng.random() < (0.06 if age >= 60 else 0.02) and age >= 18:
        held.add("tekun")
    elif rng.random() < (0.46 if mountain else 0.36):
        held.add("dibao")
    elif rng.random() < 0.22:
        held.add("dibao_marginal")
    if rng.random() < 0.85:
        held.add("low_income_registered")
    if not urban and rng.random() < (0.16 if mountain else 0.07):
        held.add("unstable_poverty_alleviated")
    elif not urban and rng.random() < (0.1 if mountain else 0.05):
        held.add("marginal_poverty_prone")
    if rng.random() < 0.03:
        held.add("sudden_severe_difficulty")
    if rng.random() < 0.002:
        held.add("vagrant")
    if age >= 80 and rng.random() < 0.9:
        held.add("elderly_allowance")

    if "tekun" in held or "vagrant" in held:
        size = 1 if rng.random() < 0.9 else 2
    elif age < 18 and held & {"orphan_institutional", "orphan_scattered"}:
        size = 1
    else:
        size = rng.choices(_SIZES, weights=_SIZE_WEIGHTS_URBAN if urban else _SIZE_WEIGHTS_RURAL)[0]
    if rng.random() >= 0.04:
        f["household_size"] = size

    # The register states some of what the household is not; the rest stays unknown.
    not_held = []
    for code in vocabulary()["statuses"]:
        if code in held:
            continue
        known_rate = 0.85 if code in ("dibao", "tekun", "dibao_marginal", "low_income_registered") else 0.5
        if rng.random() < known_rate:
            not_held.append(code)
    order = list(vocabulary()["statuses"])
    if held:
        f["statuses"] = sorted(held, key=order.index)
    if not_held:
        f["not_statuses"] = not_held

    unemployed = False
    if 18 <= age < 60:
        r = rng.random()
        if r < 0.22:
            pass  # unknown
        elif r < (0.40 if not urban else 0.32):
            f["employment"] = "unemployed_migrant_worker"
            unemployed = True
        elif r < 0.45 and age <= 30:
            f["employment"] = "unemployed_graduate"
            unemployed = True
        elif r < 0.47 and age <= 35:
            f["employment"] = "failed_startup_graduate"
            unemployed = True
        elif r < 0.80:
            f["employment"] = "employed"
        else:
            f["employment"] = "other"
    elif rng.random() < 0.6:
        f["employment"] = "other"

    if unemployed:
        if rng.random() >= 0.2:
            f["months_without_income"] = min(24, int(rng.expovariate(1 / 3.0)))
        ins = _tri(rng, 0.08, 0.12)
        ret = _tri(rng, 0.5, 0.2)
    else:
        if rng.random() < 0.4:
            f["months_without_income"] = 0 if rng.random() < 0.85 else rng.randint(1, 6)
        ins = _tri(rng, 0.05, 0.5)
        ret = _tri(rng, 0.8, 0.7)
    if ins is not None:
        f["unemployment_insurance"] = ins
    if ret is not None:
        f["can_return_to_work"] = ret

    for name, p_true, p_unknown in (("covid_confirmed", 0.02, 0.3), ("quarantined_member", 0.03, 0.35),
                                    ("severe_disability", 0.08, 0.1), ("stranded", 0.01, 0.4),
                                    ("urgent", 0.005, 0.2)):
        v = _tri(rng, p_true, p_unknown)
        if v is not None:
            f[name] = v
    ill = _tri(rng, 0.12 if age >= 60 else 0.06, 0.15)
    if ill is not None:
        f["severe_illness"] = ill
    care = _tri(rng, 0.18 if age >= 80 else (0.06 if age >= 60 else 0.02), 0.15)
    if care is not None:
        f["cannot_self_care"] = care
    if rng.random() < 0.7:
        # Skewed: most households pay little out of pocket, a few pay a great deal.
        median = 12000 if ill else 2500
        f["medical_out_of_pocket"] = round(median * math.exp(rng.gauss(0, 1.1)), 2)
    burden = bool(ill) or bool(f.get("severe_disability")) or bool(care)
    rigid = _tri(rng, 0.45 if burden else 0.08, 0.3)
    if rigid is not None:
        f["rigid_expenses"] = rigid
    if "dibao" in held:
        v = _tri(rng, 0.06, 0.35)
        if v is not None:
            f["reemployed"] = v
    if f.get("urgent") and rng.random() < 0.6:
        f["urgent_reason"] = rng.choice(_URGENT_REASONS)
    return f


def block(seed: int, index: int, rows: int) -> list[tuple[str, dict]]:
    """Rows `index*BLOCK ...` of the register for `seed`: (household_id, Facts) pairs."""
    rng = random.Random(f"screening-synth:{seed}:{index}")
    table = _county_table()
    cum, total = [], 0.0
    for _, w, _ in table:
        total += w
        cum.append(total)
    first = index * BLOCK
    width = max(6, len(str(first + rows)))
    return [(f"H{first + k + 1:0{width}d}", household(rng, table, cum)) for k in range(rows)]


def households(rows: int, seed: int):
    """All (household_id, Facts) pairs of the register, in order (for tests)."""
    for index in range(math.ceil(rows / BLOCK)):
        yield from block(seed, index, min(BLOCK, rows - index * BLOCK))


def _arrow_schema(kind: str) -> pa.Schema:
    types = fact_types()
    if kind == "csv":
        return pa.schema([(name, pa.string()) for name in register_columns()])
    arrow = {"boolean": pa.bool_(), "integer": pa.int64(), "number": pa.float64(), "codes": pa.list_(pa.string())}
    return pa.schema([(name, arrow.get(types.get(name), pa.string())) for name in register_columns()])


def block_batch(seed: int, index: int, rows: int, kind: str) -> pa.RecordBatch:
    schema = _arrow_schema(kind)
    pairs = block(seed, index, rows)
    data = {ID_COLUMN: [hid for hid, _ in pairs]}
    for name in schema.names[1:]:
        if kind == "csv":
            data[name] = [to_cell(name, f.get(name)) for _, f in pairs]
        else:
            values = [f.get(name) for _, f in pairs]
            if schema.field(name).type == pa.float64():
                values = [float(v) if v is not None else None for v in values]
            data[name] = values
    return pa.RecordBatch.from_pydict(data, schema=schema)


def _block_task(args):
    return block_batch(*args)


def write_register(path, rows: int, seed: int, *, workers: int = 1) -> int:
    """Writes a synthetic register of `rows` households to `path` (CSV or Parquet), atomically."""
    if rows < 0:
        raise ValueError("rows must be ≥ 0")
    kind = file_format(path)
    writer = BatchWriter(Path(path), _arrow_schema(kind))
    tasks = [(seed, index, min(BLOCK, rows - index * BLOCK), kind) for index in range(math.ceil(rows / BLOCK))]
    try:
        if workers <= 1 or len(tasks) <= 1:
            for task in tasks:
                writer.write(_block_task(task))
        else:
            from screening.engine import ordered_map

            with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as ex:
                for batch in ordered_map(ex, _block_task, tasks, 2 * workers):
                    writer.write(batch)
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    return rows
