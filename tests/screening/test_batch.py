"""The batch result is, row by row, what policy_kb.evaluate says — for CSV and Parquet input,
CSV and Parquet output, and any number of workers."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import policy_kb
from screening.engine import layout_for, screen
from tests.screening.conftest import AS_OF


def read_output(path, schema: pa.Schema) -> pa.Table:
    if str(path).endswith(".parquet"):
        return pq.read_table(path)
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={f.name: f.type for f in schema}, strings_can_be_null=True))


def expected_row(facts: dict) -> dict:
    """What the output must say, written straight from the evaluation (not via the engine)."""
    ev = policy_kb.evaluate(facts, today=AS_OF)
    eligible = [m for m in ev["measures"] if m["status"] == "eligible"]
    need = [m for m in ev["measures"] if m["status"] == "need_info"]
    per_measure, total, complete = {}, 0, True
    for m in eligible:
        once = [a for a in m["amounts"] if a["frequency"] == "once"]
        if once and all(a["total"] is not None for a in once):
            per_measure[m["id"]] = sum(a["total"] for a in once)
            total += per_measure[m["id"]]
        elif once:
            complete = False
    return {
        "eligible": [m["id"] for m in eligible],
        "need_info": {m["id"]: m["missing"] for m in need},
        "per_measure": per_measure,
        "total_yuan": total if complete else None,
        "urgent": ev["urgent"],
        "ask_next": ev["ask_next"],
    }


def ids(text):
    return [int(x) for x in text.split(";")] if text else []


@pytest.fixture(scope="module")
def runs(registers, tmp_path_factory):
    d = tmp_path_factory.mktemp("runs")
    out = {}
    for src in ("csv", "parquet"):
        for dst in ("csv", "parquet"):
            for workers in (1, 2):
                path = d / f"{src}-{workers}.{dst}"
                outcome = screen(registers[src], path, as_of=AS_OF, workers=workers)
                out[(src, dst, workers)] = (path, outcome)
    return out


def test_every_row_equals_evaluate(runs, registers):
    layout = layout_for(AS_OF, False)
    path, outcome = runs[("csv", "parquet", 2)]
    table = read_output(path, layout.schema())
    facts = registers["facts"]
    assert outcome.bad_rows == 0
    assert table.num_rows == len(facts) == 400
    rows = table.to_pylist()
    money_rows = 0
    for (hid, f), row in zip(facts, rows):
        exp = expected_row(f)
        assert row["household_id"] == hid
        assert row["county"] == f.get("county")
        assert ids(row["eligible"]) == exp["eligible"], hid
        assert row["eligible_count"] == len(exp["eligible"])
        need = dict(part.split("=", 1) for part in row["missing"].split(";")) if row["missing"] else {}
        assert ids(row["need_info"]) == list(exp["need_info"])
        assert {int(k): v.split(",") for k, v in need.items()} == exp["need_info"], hid
        assert (row["ask_next"].split(";") if row["ask_next"] else []) == exp["ask_next"]
        assert row["urgent"] == exp["urgent"]
        assert row["total_yuan"] == exp["total_yuan"], hid
        for mid in layout.measure_ids:
            assert row[f"m{mid}_total"] == exp["per_measure"].get(mid), (hid, mid)
        money_rows += bool(exp["per_measure"])
    # The synthetic register must exercise the money paths, or this test proves little.
    assert money_rows > 20


def test_same_result_for_any_input_format_output_format_and_workers(runs):
    layout = layout_for(AS_OF, False)
    reference = read_output(runs[("csv", "parquet", 1)][0], layout.schema())
    for key, (path, outcome) in runs.items():
        assert read_output(path, layout.schema()).equals(reference), key
    # Byte for byte, whatever the number of workers.
    for src in ("csv", "parquet"):
        for dst in ("csv", "parquet"):
            one, two = runs[(src, dst, 1)][0], runs[(src, dst, 2)][0]
            assert one.read_bytes() == two.read_bytes(), (src, dst)
            s1, s2 = (p.with_name(p.name.rsplit(".", 1)[0] + ".summary.csv") for p in (one, two))
            assert s1.read_bytes() == s2.read_bytes()


def test_summary_counts_match_the_rows(runs, registers):
    layout = layout_for(AS_OF, False)
    path, outcome = runs[("parquet", "parquet", 2)]
    rows = read_output(path, layout.schema()).to_pylist()
    summary = pacsv.read_csv(path.with_name(path.stem + ".summary.csv")).to_pylist()
    assert sum(s["households"] for s in summary) == len(rows)
    for s in summary:
        county = None if s["county"] == "（未知）" else s["county"]
        mine = [r for r in rows if r["county"] == county]
        assert s["households"] == len(mine)
        assert s["total_yuan"] == pytest.approx(sum(r["total_yuan"] or 0 for r in mine))
        for mid in layout.measure_ids:
            assert s[f"eligible_m{mid}"] == sum(mid in ids(r["eligible"]) for r in mine)
    assert len(summary) >= 10  # the synthetic register spreads over the counties


def test_unknown_cells_stay_unknown(tmp_path):
    # Same household twice: all facts given vs months/insurance left empty. The empty cells
    # must not read as 0 / false, so measure 5 goes from eligible to need_info.
    head = "household_id,county,residence,household_size,statuses,not_statuses,employment," \
           "months_without_income,unemployment_insurance,can_return_to_work\n"
    base = "西吉县,rural,3,low_income_registered,dibao,unemployed_migrant_worker"
    src = tmp_path / "r.csv"
    src.write_text(head + f"H1,{base},4,false,false\nH2,{base},,,false\n", encoding="utf-8")
    screen(src, tmp_path / "o.parquet", as_of=AS_OF)
    rows = pq.read_table(tmp_path / "o.parquet").to_pylist()
    assert 5 in ids(rows[0]["eligible"])
    assert 5 in ids(rows[1]["need_info"]) and 5 not in ids(rows[1]["eligible"])
    missing5 = dict(p.split("=", 1) for p in rows[1]["missing"].split(";"))["5"].split(",")
    assert {"months_without_income", "unemployment_insurance"} <= set(missing5)
    # The household size is known, so the measure-5 total is stated (per person × 3).
    ev = policy_kb.evaluate({"county": "西吉县", "residence": "rural", "household_size": 3,
                             "statuses": ["low_income_registered"], "not_statuses": ["dibao"],
                             "employment": "unemployed_migrant_worker", "months_without_income": 4,
                             "unemployment_insurance": False, "can_return_to_work": False}, today=AS_OF)
    m5 = ev["measures"][4]
    assert rows[0]["m5_total"] == sum(a["total"] for a in m5["amounts"] if a["frequency"] == "once")


def test_unknown_household_size_leaves_total_empty(tmp_path):
    src = tmp_path / "r.csv"
    src.write_text("household_id,county,residence,statuses,covid_confirmed\n"
                   "H1,兴庆区,urban,dibao,true\n", encoding="utf-8")
    screen(src, tmp_path / "o.parquet", as_of=AS_OF)
    row = pq.read_table(tmp_path / "o.parquet").to_pylist()[0]
    ev = policy_kb.evaluate({"county": "兴庆区", "residence": "urban", "statuses": ["dibao"],
                             "covid_confirmed": True}, today=AS_OF)
    per_person_once = [a for m in ev["measures"] if m["status"] == "eligible" for a in m["amounts"]
                       if a["frequency"] == "once" and a["per"] == "person"]
    assert any(a["total"] is None for a in per_person_once)
    assert row["total_yuan"] is None and row["total_complete"] is False


def test_alias_county_is_written_canonical_and_row_as_of_wins(tmp_path):
    src = tmp_path / "r.csv"
    src.write_text("household_id,county,statuses,as_of\nH1,西吉,dibao,\nH2,西吉,dibao,2024-03-01\n",
                   encoding="utf-8")
    screen(src, tmp_path / "o.csv", as_of=AS_OF)
    rows = pacsv.read_csv(tmp_path / "o.csv").to_pylist()
    assert [r["county"] for r in rows] == ["西吉县", "西吉县"]
    assert [r["city"] for r in rows] == ["固原市", "固原市"]
    assert str(rows[0]["as_of"]) == "2022-07-01" and rows[0]["in_force"] is True
    assert str(rows[1]["as_of"]) == "2024-03-01" and rows[1]["in_force"] is False
    assert not rows[1]["eligible"]  # nothing is eligible once the document has expired


def test_gbk_register(tmp_path):
    src = tmp_path / "r.csv"
    src.write_bytes("household_id,county,statuses\nH1,隆德县,tekun\n".encode("gbk"))
    screen(src, tmp_path / "o.parquet", as_of=AS_OF, encoding="gbk")
    row = pq.read_table(tmp_path / "o.parquet").to_pylist()[0]
    assert row["county"] == "隆德县"
    assert ids(row["eligible"]) == [m["id"] for m in policy_kb.evaluate(
        {"county": "隆德县", "statuses": ["tekun"]}, today=AS_OF)["measures"] if m["status"] == "eligible"]
