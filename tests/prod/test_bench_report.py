"""scripts/bench_report.py: every result collated, headline figures picked, bad files named."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_report_collates_results_picks_headlines_and_names_bad_files(tmp_path):
    (tmp_path / "policy.json").write_text(json.dumps(
        {"name": "policy", "metrics": {"evaluations_per_second_median": 41000, "cases": 5}, "notes": "n"}))
    (tmp_path / "load.json").write_text(json.dumps({"name": "load", "metrics": {
        "chat_p50_ms": 900.5, "chat_p95_ms": 2100.0, "duplicate_tickets": 0, "rss_peak_mb_rasa1": 1170.2,
        "all_checks_passed": 1, "flag": True}, "notes": ""}))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "shapeless.json").write_text(json.dumps({"name": "x"}))
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_report.py"), "--dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["benchmarks"] == ["load", "policy"]
    assert set(report["invalid"]) == {"broken.json", "shapeless.json"}
    assert "flag" not in report["results"]["load"]["metrics"]  # booleans are not figures
    picked = {r["metric"]: r["what"] for r in report["headline"]}
    assert picked["policy.evaluations_per_second_median"] == "policy evaluations/s"
    assert picked["load.chat_p95_ms"] == "chat turn latency"
    assert picked["load.rss_peak_mb_rasa1"] == "memory (RSS MB)"
    assert picked["load.duplicate_tickets"] == "load checks"
    assert "policy.cases" not in picked
    assert "load.chat_p95_ms" in out.stdout and "2,100" in out.stdout
    assert "broken.json" in out.stderr
    # Run again: the report itself is not read as a result.
    subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_report.py"), "--dir", str(tmp_path)],
                   check=True, capture_output=True, timeout=60)
    assert json.loads((tmp_path / "report.json").read_text())["benchmarks"] == ["load", "policy"]
