"""The parent side of a benchmark run, shared by ``bench.run`` and ``bench.compiled``: running one round in
a child process, and pooling rounds into the rows of the results table.

>>> m = Measurement(); record_result(m, {"peak_rss_mb": 90.0, "rss_after_import_mb": 60.0}, [0.002, 0.004])
>>> m.median(), describe_result({"times": [0.002], "peak_rss_mb": 90.0})
(0.003, 'median 2.00 ms, peak RSS 90 MB')
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.measure import RESULT_PREFIX

__all__ = ["REPOSITORY", "Measurement", "Row", "thread_environment", "child_environment", "run_child", "record_result",
           "describe_result"]

REPOSITORY = Path(__file__).resolve().parent.parent


@dataclass
class Measurement:
    """Every round of one (library, workload row): pooled step times in seconds, RSS figures, failures."""

    times: list = field(default_factory=list)
    peak_rss_mb: list = field(default_factory=list)
    import_rss_mb: list = field(default_factory=list)
    first_value: float | None = None
    shared_weights: bool = True
    unavailable: str | None = None

    def median(self) -> float | None:
        """Median seconds per step over all rounds, or ``None`` if nothing was timed."""
        return statistics.median(self.times) if self.times else None


@dataclass
class Row:
    """One line of the results table."""

    name: str
    unit: str
    target: float | None
    results: dict
    note: str = ""

    def ratio(self) -> float | None:
        """Ember's median over PyTorch's, when both ran."""
        ember, torch = self.results["ember"].median(), self.results["torch"].median()
        return ember / torch if ember is not None and torch else None


def thread_environment(threads: int) -> dict:
    """Environment variables that pin every BLAS/OpenMP pool of the child to ``threads`` threads."""
    value = str(threads)
    return {"OMP_NUM_THREADS": value, "MKL_NUM_THREADS": value, "OPENBLAS_NUM_THREADS": value,
            "VECLIB_MAXIMUM_THREADS": value, "NUMEXPR_NUM_THREADS": value}


def child_environment(threads: int, checkout: Path = REPOSITORY) -> dict:
    """The environment of every child: pinned thread pools, ``checkout`` (this repository, or another one
    ``bench.versus_checkout`` compares with) importable first, and cached bytecode.

    ``PYTHONDONTWRITEBYTECODE`` is dropped and bytecode goes to one cache directory outside the tree, so
    imports are timed as in an installed package (compiled once), not recompiled from source each time.
    """
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env.update(thread_environment(threads))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(checkout), os.environ.get("PYTHONPATH")]))
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "ember-bench-pycache")
    return env


def run_child(arguments: list[str], threads: int, timeout: float, module: str = "bench.measure",
              checkout: Path = REPOSITORY) -> dict:
    """Run ``python -m <module> arguments`` in ``checkout`` and return its ``BENCH_RESULT`` (or an ``unavailable``
    reason)."""
    env = child_environment(threads, checkout)
    try:
        completed = subprocess.run([sys.executable, "-m", module, "--threads", str(threads), *arguments],
                                   env=env, capture_output=True, text=True, timeout=timeout, cwd=checkout)
    except subprocess.TimeoutExpired:
        return {"unavailable": f"timed out after {timeout:.0f} s"}
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    last_error = (completed.stderr.strip().splitlines() or ["no output"])[-1]
    return {"unavailable": f"child exited {completed.returncode}: {last_error[:300]}"}


def record_result(measurement: Measurement, result: dict, times: list | None) -> None:
    if "unavailable" in result:
        measurement.unavailable = measurement.unavailable or result["unavailable"]
        return
    measurement.times.extend(times or [])
    measurement.peak_rss_mb.append(result["peak_rss_mb"])
    measurement.import_rss_mb.append(result["rss_after_import_mb"])


def describe_result(result: dict) -> str:
    if "unavailable" in result:
        return "unavailable: " + result["unavailable"]
    if "times" in result:
        return f"median {statistics.median(result['times']) * 1e3:.2f} ms, peak RSS {result['peak_rss_mb']:.0f} MB"
    return f"peak RSS {result['peak_rss_mb']:.0f} MB"
