"""--receiving: households eligible for a measure but not on its list of recipients, per county."""
from __future__ import annotations

import random

import pyarrow.csv as pacsv

import policy_kb
from screening.engine import layout_for, screen
from tests.screening.conftest import AS_OF, hotline


def eligible_map(facts):
    out = {}
    for hid, f in facts:
        ev = policy_kb.evaluate(f, today=AS_OF)
        out[hid] = (f.get("county"), {m["id"] for m in ev["measures"] if m["status"] == "eligible"})
    return out


def test_not_receiving_report(registers, tmp_path):
    facts = registers["facts"]
    eligible = eligible_map(facts)
    rng = random.Random(5)
    # Half of the eligible (household, measure) pairs are already paid, plus noise: a household
    # that is not in the register and one receiving a measure it is not eligible for.
    lines, receiving = ["household_id,measure"], set()
    for hid, (_, ms) in eligible.items():
        for mid in sorted(ms):
            if rng.random() < 0.5:
                lines.append(f"{hid},{mid}")
                receiving.add((hid, mid))
    lines += ["H999999,1", "X1,99", "H000001,abc", ",5"]
    recv = tmp_path / "receiving.csv"
    recv.write_text("\n".join(lines) + "\n", encoding="utf-8")

    outcome = screen(registers["csv"], tmp_path / "out.csv", as_of=AS_OF, workers=2, receiving_path=recv)
    assert outcome.unmatched_receiving == 1  # H999999
    assert sorted(p[0] for p in outcome.receiving_problems) == [len(lines) - 2, len(lines) - 1, len(lines)]
    assert {p[1] for p in outcome.receiving_problems} == {"measure", "household_id"}

    expected = sorted((county or "", hid, mid) for hid, (county, ms) in eligible.items() for mid in ms
                      if (hid, mid) not in receiving)
    assert expected, "the fixture should leave some entitlements unclaimed"
    gaps = pacsv.read_csv(tmp_path / "out.not_receiving.csv",
                          convert_options=pacsv.ConvertOptions(strings_can_be_null=True)).to_pylist()
    assert sorted((g["county"] or "", g["household_id"], g["measure"]) for g in gaps) == expected
    # Grouped by county, in the county table's order (unknown county last).
    order = [c.name for c in policy_kb.counties()]
    ranks = [order.index(g["county"]) if g["county"] else len(order) for g in gaps]
    assert ranks == sorted(ranks)
    assert all(g["title"] == policy_kb.measure(g["measure"])["title"] for g in gaps)

    rows = {r["household_id"]: r for r in pacsv.read_csv(tmp_path / "out.csv").to_pylist()}
    for hid, (_, ms) in eligible.items():
        got = rows[hid]["not_receiving"]
        want = sorted(m for m in ms if (hid, m) not in receiving)
        assert ([int(x) for x in str(got).split(";")] if got else []) == want, hid

    layout = layout_for(AS_OF, True)
    summary = pacsv.read_csv(tmp_path / "out.summary.csv").to_pylist()
    for s in summary:
        county = "" if s["county"] == "（未知）" else s["county"]
        for mid in layout.measure_ids:
            assert s[f"not_receiving_m{mid}"] == sum(1 for c, h, m in expected if c == county and m == mid)
        assert s["not_receiving_households"] == len({h for c, h, m in expected if c == county})


def test_cli_receiving_with_parquet_output_and_json_summary(registers, tmp_path):
    recv = tmp_path / "r.csv"
    recv.write_text("household_id,measure\nH000001,1;2\n", encoding="utf-8")
    proc = hotline("screen", registers["parquet"], "--as-of", "2022-07-01", "--out", tmp_path / "o.parquet",
                   "--receiving", recv, "--summary", tmp_path / "s.json", "--gaps", tmp_path / "g.parquet")
    assert "应享未享户" in proc.stdout
    import json

    import pyarrow.parquet as pq
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    gaps = pq.read_table(tmp_path / "g.parquet")
    assert sum(s["not_receiving_households"] for s in summary) == len(set(gaps.column("household_id").to_pylist()))


def test_receiving_file_without_measure_column_is_refused(registers, tmp_path):
    recv = tmp_path / "r.csv"
    recv.write_text("household_id,what\nH000001,1\n", encoding="utf-8")
    proc = hotline("screen", registers["csv"], "--as-of", "2022-07-01", "--out", tmp_path / "o.csv",
                   "--receiving", recv, check=False)
    assert proc.returncode == 2 and "measure" in proc.stderr
    assert not (tmp_path / "o.csv").exists()
