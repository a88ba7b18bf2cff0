"""Smoke test of the benchmark harness: ``python -m bench --quick`` runs every workload and prints the tables.

Timings are never checked (CI machines are noisy); only that the harness works end to end on both libraries.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from bench.micro import MICRO_BENCHMARKS
from bench.workloads import MODEL_WORKLOADS

REPOSITORY = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    report = tmp_path_factory.mktemp("bench") / "BENCHMARKS.md"
    completed = subprocess.run([sys.executable, "-m", "bench", "--quick", "--output", str(report)],
                               cwd=REPOSITORY, capture_output=True, text=True, timeout=900)
    return completed, report


def _table_rows(text):
    return {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ") and line.count("|") > 10}


def test_quick_run_exits_zero_and_prints_the_table(quick_run):
    completed, _ = quick_run
    assert completed.returncode == 0, completed.stderr[-2000:]
    rows = _table_rows(completed.stdout)
    assert "Workload" in rows
    for name in [*MODEL_WORKLOADS, *(benchmark.name for benchmark in MICRO_BENCHMARKS)]:
        assert name in rows, f"no table row for {name}"
    assert "import time, s (median)" in completed.stdout


def test_every_workload_runs_on_ember(quick_run):
    completed, _ = quick_run
    for name, line in _table_rows(completed.stdout).items():
        ember_median = line.split("|")[3]
        assert "unavailable" not in ember_median, f"{name}: {ember_median.strip()}"


def test_quick_run_writes_the_markdown_report(quick_run):
    _, report = quick_run
    text = report.read_text()
    for heading in ("## Machine", "## Results", "## Start-up", "NumPy BLAS", "Ember/PyTorch"):
        assert heading in text
