"""Start-up cost: ``import`` time in a fresh interpreter, the worst ``-X importtime`` offenders, installed size.

>>> seconds, rss_mb = import_cost("json")
>>> seconds >= 0 and rss_mb > 0
True
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

__all__ = ["import_cost", "import_time_offenders", "installed_size_mb"]

_IMPORT_PROBE = """
import json, resource, time
start = time.perf_counter()
import {module}
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def import_cost(module: str, env: dict | None = None, timeout: float = 120.0) -> tuple[float, float]:
    """Seconds to ``import module`` in a fresh interpreter (environment ``env``), and its peak RSS in MB afterwards.

    >>> import_cost("math")[0] < 1.0
    True
    """
    completed = subprocess.run([sys.executable, "-c", _IMPORT_PROBE.format(module=module)], env=env,
                               capture_output=True, text=True, timeout=timeout, check=True)
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return result["seconds"], result["rss_kb"] / 1024.0


def import_time_offenders(module: str, env: dict | None = None, top: int = 10, timeout: float = 120.0) -> list[tuple[str, float, float]]:
    """The ``top`` modules with the largest self time under ``python -X importtime -c "import module"``.

    Returns ``(module name, self ms, cumulative ms)`` tuples, worst first. Modules loaded through
    ``importlib.import_module`` are not timed separately by ``-X importtime``: their time counts as the
    importer's own.

    >>> offenders = import_time_offenders("json", top=2)
    >>> len(offenders) <= 2 and all(isinstance(name, str) for name, _, _ in offenders)
    True
    """
    completed = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], env=env,
                               capture_output=True, text=True, timeout=timeout, check=True)
    rows = []
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        fields = line[len("import time:"):].split("|")
        if len(fields) != 3:
            continue
        self_us, cumulative_us, name = fields
        rows.append((name.strip(), int(self_us) / 1000.0, int(cumulative_us) / 1000.0))
    rows.sort(key=lambda row: row[1], reverse=True)
    return rows[:top]


def installed_size_mb(module: str) -> float | None:
    """Size in MB of the package directory of ``module`` (``__pycache__`` excluded), without importing it.

    >>> installed_size_mb("json") > 0
    True
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    total = 0
    for root in spec.submodule_search_locations:
        for path in Path(root).rglob("*"):
            if "__pycache__" not in path.parts and path.is_file() and not path.is_symlink():
                total += path.stat().st_size
    return total / 1e6
