"""Bad rows are reported (line, field, reason) and skipped; the good rows are still written."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

import policy_kb
from screening.columns import CellError, RowReader
from screening.engine import mask, screen
from tests.screening.conftest import AS_OF, hotline

HEADER = "household_id,county,residence,household_size,statuses,medical_out_of_pocket,age,covid_confirmed,as_of"
LINES = [
    "H001,西吉县,rural,3,dibao,100,40,false,",             # line 2: good
    "H002,北京市朝阳区,urban,2,dibao,100,40,false,",        # line 3: unknown county
    "H003,兴庆区,urban,2,dibao,-5,40,false,",              # line 4: negative cost
    "H004,兴庆区,urban,2,dibao;not_a_status,100,40,false,",  # line 5: unknown code (2nd)
    "H005,兴庆区,urban,2,dibao,100,40,false,2022-13-45",   # line 6: malformed date
    "H006,兴庆区,urban,2,dibao,100,forty,false,",           # line 7: not an integer
    "H007,兴庆区,urban,2,dibao,100,40,maybe,",              # line 8: not a boolean
    "",                                                     # line 9: blank, ignored
    "H008,兴庆区,urban,2",                                  # line 10: too few fields
    ",兴庆区,urban,2,dibao,100,40,false,",                  # line 11: no household id
    "H009,海原,rural,,tekun,,,,",                           # line 12: good (alias, unknowns)
    "H010,兴庆区,urban,2,dibao,100,40,false,",             # line 13: good
]
EXPECTED = {  # line -> field named in the report
    3: "county", 4: "medical_out_of_pocket", 5: "statuses[1]", 6: "as_of", 7: "age",
    8: "covid_confirmed", 10: None, 11: "household_id",
}


def write_bad(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text(HEADER + "\n" + "\n".join(LINES) + "\n", encoding="utf-8")
    return src


def test_bad_rows_reported_with_line_field_reason_and_good_rows_written(tmp_path):
    src = write_bad(tmp_path)
    echoed = []
    outcome = screen(src, tmp_path / "out.csv", as_of=AS_OF, workers=2, echo=echoed.append)
    out = pacsv.read_csv(tmp_path / "out.csv").to_pylist()
    assert [r["household_id"] for r in out] == ["H001", "H009", "H010"]
    assert outcome.bad_rows == len(EXPECTED)
    errors = pacsv.read_csv(tmp_path / "out.errors.csv",
                            convert_options=pacsv.ConvertOptions(strings_can_be_null=True)).to_pylist()
    got = {e["line"]: e for e in errors}
    assert {line: e["field"] for line, e in got.items()} == EXPECTED
    assert "北京市朝阳区" in got[3]["reason"]
    assert "forty" in got[7]["reason"] and "maybe" in got[8]["reason"]
    assert got[3]["household_id"] == "H002"
    # The reason is policy_kb's own message for what policy_kb judges.
    try:
        policy_kb.evaluate({"county": "北京市朝阳区"}, today=AS_OF)
    except policy_kb.InvalidFacts as exc:
        assert got[3]["reason"] == exc.message
    assert len([m for m in echoed if "skipped bad row" in m]) == len(EXPECTED)
    assert any("第 4 行" in m and "medical_out_of_pocket" in m for m in echoed)


def test_bad_row_in_parquet_is_reported_by_row(tmp_path):
    table = pa.table({
        "household_id": ["P1", "P2", "P3"],
        "county": ["兴庆区", "兰州", "西吉县"],
        "statuses": [["dibao"], ["dibao"], ["tekun"]],
        "household_size": pa.array([2, 2, 0], pa.int64()),
    })
    pq.write_table(table, tmp_path / "r.parquet")
    outcome = screen(tmp_path / "r.parquet", tmp_path / "o.parquet", as_of=AS_OF)
    assert pq.read_table(tmp_path / "o.parquet").column("household_id").to_pylist() == ["P1"]
    errors = pacsv.read_csv(tmp_path / "o.errors.csv").to_pylist()
    assert [(e["row"], e["field"]) for e in errors] == [(2, "county"), (3, "household_size")]
    assert outcome.bad_rows == 2


def test_cli_reports_bad_rows_and_still_exits_cleanly(tmp_path):
    src = write_bad(tmp_path)
    proc = hotline("screen", src, "--as-of", "2022-07-01", "--out", tmp_path / "o.parquet", "--workers", "1")
    assert "第 3 行" in proc.stderr and "county" in proc.stderr
    assert "bad rows skipped: 8" in proc.stdout
    assert pq.read_table(tmp_path / "o.parquet").num_rows == 3


def test_cli_refuses_a_register_without_household_id(tmp_path):
    src = tmp_path / "r.csv"
    src.write_text("county,statuses\n兴庆区,dibao\n", encoding="utf-8")
    proc = hotline("screen", src, "--as-of", "2022-07-01", "--out", tmp_path / "o.csv", check=False)
    assert proc.returncode == 2 and "household_id" in proc.stderr
    assert not (tmp_path / "o.csv").exists()


def test_cli_option_errors(tmp_path):
    src = write_bad(tmp_path)
    proc = hotline("screen", src, "--out", tmp_path / "o.csv", check=False)
    assert proc.returncode == 2 and "--as-of" in proc.stderr
    proc = hotline("screen", src, "--as-of", "2022-02-30", "--out", tmp_path / "o.csv", check=False)
    assert proc.returncode == 2 and "2022-02-30" in proc.stderr
    proc = hotline("screen", src, "--as-of", "2022-07-01", "--out", tmp_path / "o.xlsx", check=False)
    assert proc.returncode == 2 and ".xlsx" in proc.stderr
    assert not list(tmp_path.glob("o.*"))


def test_cell_reader_types_and_unknowns():
    reader = RowReader(["household_id", "statuses", "age", "medical_out_of_pocket", "severe_illness",
                        "as_of", "not_a_field"])
    assert reader.ignored == ["not_a_field"]
    cols = {"household_id": ["H1", "H2"], "statuses": ["dibao； tekun;", "  "], "age": ["61.0", None],
            "medical_out_of_pocket": ["20000", "  "], "severe_illness": ["是", None], "as_of": [None, "2022-07-01"],
            "not_a_field": ["x", "y"]}
    assert reader.facts(cols, 0) == {"statuses": ["dibao", "tekun"], "age": 61,
                                     "medical_out_of_pocket": 20000, "severe_illness": True}
    assert reader.facts(cols, 1) == {"as_of": "2022-07-01"}  # blanks are unknown, not 0 / false
    cols["age"] = ["61.5", None]
    try:
        reader.facts(cols, 0)
    except CellError as exc:
        assert exc.field == "age" and "61.5" in exc.message
    else:
        raise AssertionError("61.5 is not an age")


def test_personal_numbers_are_masked_in_reports():
    assert mask("110101199003071234") == "110*************34"
    assert "13912345678" not in mask("county '13912345678'")
    assert mask("H000123") == "H000123"


def test_progress_bar_only_on_a_terminal(registers, tmp_path):
    import os
    import pty
    import subprocess
    import sys

    from tests.screening.conftest import ROOT

    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "hotline.cli", "screen", str(registers["csv"]), "--as-of", "2022-07-01",
             "--out", str(tmp_path / "o.csv"), "--workers", "1"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=slave, timeout=120)
        os.close(slave)
        slave = None
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0
    assert "户".encode() in seen and b"/s" in seen and b"\r" in seen  # the bar was drawn on the tty
    piped = hotline("screen", registers["csv"], "--as-of", "2022-07-01", "--out", tmp_path / "p.csv", "--workers", "1")
    assert "\r" not in piped.stderr  # not a terminal: no bar


def test_output_may_not_overwrite_the_register(tmp_path):
    src = write_bad(tmp_path)
    before = src.read_bytes()
    proc = hotline("screen", src, "--as-of", "2022-07-01", "--out", src, check=False)
    assert proc.returncode == 2 and "overwrite" in proc.stderr
    assert src.read_bytes() == before


def test_bom_for_excel_and_a_bom_register_reads_back(registers, tmp_path):
    hotline("screen", registers["csv"], "--as-of", "2022-07-01", "--out", tmp_path / "o.csv", "--bom", "--workers", "1")
    for name in ("o.csv", "o.summary.csv", "o.errors.csv"):
        assert (tmp_path / name).read_bytes().startswith(b"\xef\xbb\xbf"), name
    # A register saved with a BOM (as Excel does) reads the same as one without.
    src = tmp_path / "bom.csv"
    src.write_bytes(b"\xef\xbb\xbf" + registers["csv"].read_bytes())
    plain = screen(registers["csv"], tmp_path / "a.parquet", as_of=AS_OF)
    with_bom = screen(src, tmp_path / "b.parquet", as_of=AS_OF)
    assert with_bom.bad_rows == plain.bad_rows == 0
    assert pq.read_table(tmp_path / "a.parquet").equals(pq.read_table(tmp_path / "b.parquet"))
