"""The synthetic register generator: seeded, valid Facts, plausible shape, no personal data."""
from __future__ import annotations

import re
from collections import Counter

import pyarrow.parquet as pq

import policy_kb
from screening.synth import households, register_columns, write_register
from tests.screening.conftest import hotline


def test_same_seed_same_file_whatever_the_workers(tmp_path):
    write_register(tmp_path / "a.csv", 25_000, seed=11, workers=1)
    write_register(tmp_path / "b.csv", 25_000, seed=11, workers=2)
    write_register(tmp_path / "c.csv", 25_000, seed=12, workers=2)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()


def test_rows_are_valid_facts_with_plausible_shape():
    rows = list(households(6000, seed=2))
    assert [hid for hid, _ in rows[:2]] == ["H000001", "H000002"]
    assert len({hid for hid, _ in rows}) == len(rows)
    for _, facts in rows:
        policy_kb.validate_facts(facts)  # raises on anything the contract does not allow
    counties = Counter(f.get("county") for _, f in rows)
    assert len([c for c in counties if c]) == len(policy_kb.counties())
    # Unknowns exist for every generated field, and no field is always unknown.
    for name in register_columns()[1:]:
        known = sum(name in f for _, f in rows)
        assert 0 < known < len(rows) or name == "urgent_reason", name
    # Districts are more urban than counties; the mountain south is poorer.
    kinds = {c.name: c.kind for c in policy_kb.counties()}

    def urban_share(kind):
        rs = [f["residence"] for _, f in rows if kinds.get(f.get("county")) == kind and "residence" in f]
        return rs.count("urban") / len(rs)

    assert urban_share("district") > urban_share("county") + 0.2
    south = [f for _, f in rows if f.get("county") in ("西吉县", "海原县", "原州区")]
    north = [f for _, f in rows if f.get("county") in ("兴庆区", "金凤区", "西夏区")]

    def dibao_share(fs):
        return sum("dibao" in f.get("statuses", ()) for f in fs) / len(fs)

    assert dibao_share(south) > dibao_share(north)
    sizes = Counter(f["household_size"] for _, f in rows if "household_size" in f)
    assert min(sizes) == 1 and max(sizes) <= 8 and sizes[1] > sizes[6]
    costs = sorted(f["medical_out_of_pocket"] for _, f in rows if "medical_out_of_pocket" in f)
    assert costs[len(costs) // 2] < costs[int(len(costs) * 0.97)] / 4  # long right tail


def test_no_personal_data_shapes(tmp_path):
    write_register(tmp_path / "r.csv", 2000, seed=4)
    text = (tmp_path / "r.csv").read_text(encoding="utf-8")
    assert not re.search(r"\d{11,}", text)  # no ID-card or phone numbers


def test_cli_synth_parquet_is_typed(tmp_path):
    proc = hotline("screen", "synth", "--rows", "500", "--seed", "9", "--out", tmp_path / "s.parquet")
    assert "500" in proc.stderr
    table = pq.read_table(tmp_path / "s.parquet")
    assert table.num_rows == 500
    import pyarrow as pa

    assert pa.types.is_list(table.schema.field("statuses").type)
    assert str(table.schema.field("covid_confirmed").type) == "bool"
    proc = hotline("screen", "synth", "--out", tmp_path / "x.csv", check=False)
    assert proc.returncode == 2 and "--rows" in proc.stderr
