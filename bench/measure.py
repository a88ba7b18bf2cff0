"""One measurement round in a fresh process: ``python -m bench.measure --lib ember --workload mlp``.

The harness (``bench.run``, through ``bench.harness.run_child``) starts one such process per (library, workload,
round), so the libraries never share an interpreter, an allocator or a BLAS thread pool. The process prints one line
``BENCH_RESULT <json>`` with the per-step times in seconds, the step-0 loss and ``ru_maxrss`` figures.
A workload the library cannot run yet is reported as ``{"unavailable": "<reason>"}`` rather than a crash.

``--prepare-weights DIR`` (run with ``--lib torch``) writes each model's initial state dict as
``DIR/<workload>.npz``, so both libraries start from the same weights.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import json
import os
import resource
import sys
import time
import traceback

import numpy as np

RESULT_PREFIX = "BENCH_RESULT "
MODEL_SEED = 0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux ``VmHWM``, through ``/proc/self/clear_refs``); False where unsupported.

    After a reset, :func:`peak_rss_since_reset_mb` is the peak of what ran since: the steady-state memory of a
    training step, without the one-off cost of setup or of a first (capturing) call.

    >>> reset_peak_rss() in (True, False)
    True
    """
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _proc_status_mb(field: str) -> float | None:
    """A ``/proc/self/status`` memory field (``VmHWM``, ``VmRSS``) in MB, or None where /proc is missing."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def peak_rss_since_reset_mb() -> float | None:
    """``VmHWM`` in MB (the peak RSS since the last :func:`reset_peak_rss`), or None where /proc is missing.

    >>> value = peak_rss_since_reset_mb()
    >>> value is None or value > 0
    True
    """
    return _proc_status_mb("VmHWM")


def current_rss_mb() -> float | None:
    """The resident set size now, in MB (``VmRSS``), or None where /proc is missing.

    >>> value = current_rss_mb()
    >>> value is None or value > 0
    True
    """
    return _proc_status_mb("VmRSS")


def _import_library(name: str, threads: int):
    library = importlib.import_module(name)
    library.set_num_threads(threads)
    return library


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".splitlines()[0][:300]


def _load_state_dict(weights_dir: str | None, workload: str, quick: bool) -> dict | None:
    if not weights_dir:
        return None
    path = os.path.join(weights_dir, f"{workload}{'_quick' if quick else ''}.npz")
    if not os.path.exists(path):
        return None
    with np.load(path) as archive:
        return {name: archive[name] for name in archive.files}


def prepare_weights(directory: str, workload_names: list[str], quick: bool, threads: int) -> dict:
    """Write the PyTorch-initialized state dict of each model workload to ``directory`` as NumPy archives."""
    from bench.workloads import MODEL_WORKLOADS
    torch = _import_library("torch", threads)
    written = {}
    for name in workload_names:
        try:
            torch.manual_seed(MODEL_SEED)
            model = MODEL_WORKLOADS[name].build(torch, quick)
            state = {key: value.detach().numpy() for key, value in model.state_dict().items()}
            np.savez(os.path.join(directory, f"{name}{'_quick' if quick else ''}.npz"), **state)
            written[name] = "ok"
        except Exception as error:  # a missing torch feature must not stop the other workloads
            written[name] = _reason(error)
    return written


def measure_model(lib, name: str, quick: bool, weights_dir: str | None, warmup: int, steps: int, profile_path: str | None) -> dict:
    """Time ``steps`` steps of model workload ``name`` after ``warmup`` untimed ones."""
    from bench.workloads import MODEL_WORKLOADS, prepared_step
    lib.manual_seed(MODEL_SEED)
    state_dict = _load_state_dict(weights_dir, name, quick)
    step, first_value = prepared_step(lib, MODEL_WORKLOADS[name], quick, state_dict)
    rss_after_setup = _rss_mb()
    for _ in range(warmup):
        step()
    profiler = cProfile.Profile() if profile_path else None
    times = []
    for _ in range(steps):
        if profiler:
            profiler.enable()
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
        if profiler:
            profiler.disable()
    if profiler:
        profiler.dump_stats(profile_path)
    return {"times": times, "first_value": first_value, "shared_weights": state_dict is not None,
            "rss_after_setup_mb": rss_after_setup}


def measure_micro(lib, quick: bool, steps: int, profile_path: str | None) -> dict:
    """Time every micro benchmark: ``steps`` samples of ``inner`` calls each, after one untimed sample."""
    from bench.micro import MICRO_BENCHMARKS
    rows = {}
    profiler = cProfile.Profile() if profile_path else None
    for benchmark in MICRO_BENCHMARKS:
        inner = max(1, benchmark.inner // 100) if quick else benchmark.inner
        try:
            call = benchmark.make(lib, quick)
            for _ in range(inner):
                call()
            times = []
            for _ in range(steps):
                if profiler:
                    profiler.enable()
                start = time.perf_counter()
                for _ in range(inner):
                    call()
                times.append((time.perf_counter() - start) / inner)
                if profiler:
                    profiler.disable()
            rows[benchmark.name] = {"times": times}
        except Exception as error:
            rows[benchmark.name] = {"unavailable": _reason(error)}
    if profiler:
        profiler.dump_stats(profile_path)
    return {"rows": rows}


def main(argv: list[str] | None = None) -> int:
    """Run one measurement round and print its ``BENCH_RESULT`` line; always exit 0 once started."""
    parser = argparse.ArgumentParser(prog="python -m bench.measure", description=__doc__.splitlines()[0])
    parser.add_argument("--lib", choices=["ember", "torch"], required=True)
    parser.add_argument("--workload")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--weights", help="directory of <workload>.npz initial state dicts")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--profile", help="write a cProfile of the timed steps here")
    parser.add_argument("--prepare-weights", metavar="DIR")
    parser.add_argument("--workloads", default="", help="comma-separated, for --prepare-weights")
    args = parser.parse_args(argv)

    result: dict
    try:
        if args.prepare_weights:
            result = {"prepared": prepare_weights(args.prepare_weights, [w for w in args.workloads.split(",") if w], args.quick,
                                                  args.threads)}
        else:
            import_start = time.perf_counter()
            lib = _import_library(args.lib, args.threads)
            result = {"import_seconds": time.perf_counter() - import_start, "rss_after_import_mb": _rss_mb()}
            if args.workload == "micro":
                result.update(measure_micro(lib, args.quick, args.steps, args.profile))
            else:
                result.update(measure_model(lib, args.workload, args.quick, args.weights, args.warmup, args.steps, args.profile))
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        result = {"unavailable": _reason(error)}
    result["peak_rss_mb"] = _rss_mb()
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
