"""The matrix-product floor of each training workload: ``python -m bench.gemm_floor [--only mlp,gpt,lstm]``.

A training step cannot take less time than its matrix products (forward, input gradients and weight
gradients). This lists them from each model's configuration (bench/models.py, bench/workloads.py), times them
back to back with NumPy's BLAS (what Ember calls) and with PyTorch's, and sets the sum next to PyTorch's whole
eager step and Ember's compiled step, all in this one process. When the floor alone is above 0.8 of PyTorch's
step, no executor that calls this BLAS reaches a 0.8 ratio, however little else it does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time


def _linear(rows, inputs, outputs, input_grad=True):
    """A Linear layer's products: forward, weight gradient and (when its input needs one) input gradient."""
    products = [("x @ W^T", 1, rows, inputs, outputs), ("dY^T @ x", 1, outputs, rows, inputs)]
    if input_grad:
        products.append(("dY @ W", 1, rows, outputs, inputs))
    return products


def workload_gemms(name: str) -> list:
    """``(what, count, m, k, n)`` for every (batched) matrix product of one training step of ``name``."""
    if name == "mlp":  # batch 128, 784-512-512-10; the input needs no gradient
        return _linear(128, 784, 512, False) + _linear(128, 512, 512) + _linear(128, 512, 10)
    if name == "gpt":  # batch 16 x 128 tokens, d 256, 4 heads of 64, 4 layers, vocab 256
        tokens, d, heads, seq, batch = 2048, 256, 4, 128, 16
        per_layer = (_linear(tokens, d, 3 * d) + _linear(tokens, d, d) + _linear(tokens, d, 4 * d)
                     + _linear(tokens, 4 * d, d))
        matrices = batch * heads
        attention = [("q @ k^T", matrices, seq, 64, seq), ("P @ v", matrices, seq, seq, 64),
                     ("dS @ k", matrices, seq, seq, 64), ("dS^T @ q", matrices, seq, seq, 64),
                     ("dY @ v^T", matrices, seq, 64, seq), ("P^T @ dY", matrices, seq, seq, 64)]
        return (per_layer + attention) * 4 + _linear(tokens, d, 256)
    if name == "lstm":  # batch 32, 64 steps, hidden 256, vocab 256
        rows, hidden, steps, batch = 2048, 256, 64, 32
        return [("input projection", 1, rows, hidden, 4 * hidden), ("h @ W_hh^T per step", steps, batch, hidden, 4 * hidden),
                ("dG @ W_hh per step", steps, batch, 4 * hidden, hidden), ("dG @ W_ih", 1, rows, 4 * hidden, hidden),
                ("dG^T @ x", 1, 4 * hidden, rows, hidden), ("dG^T @ h", 1, 4 * hidden, rows, hidden),
                *_linear(rows, hidden, 256)]
    raise ValueError(f"no matrix-product list for workload {name!r}; known: mlp, gpt, lstm")


def _median_seconds(run, repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gemm_seconds(gemms, matmul, make, repeats: int = 7) -> float:
    """The time of ``gemms`` run one after another, each one's median, with ``matmul(a, b)`` on ``make`` arrays
    (a batched product repeats the same matrices ``count`` times, as a per-step loop or a stacked matmul does)."""
    total = 0.0
    for _, count, m, k, n in gemms:
        a, b = make((m, k)), make((k, n))
        total += count * _median_seconds(lambda: matmul(a, b), repeats)
    return total


def measure_part(library: str, names: list, steps: int, threads: int) -> dict:
    """In this process, with one library only: ``{name: (GEMM floor seconds, median training step seconds)}``,
    the step compiled for Ember (``ember.compile``) and eager for PyTorch."""
    import numpy as np

    from bench.measure import _import_library
    lib = _import_library(library, threads)
    from bench.workloads import MODEL_WORKLOADS, build_step
    rng = np.random.default_rng(0)
    if library == "torch":
        def make(shape):
            return lib.from_numpy(rng.standard_normal(shape, dtype=np.float32))
        matmul = lib.matmul
    else:
        def make(shape):
            return rng.standard_normal(shape, dtype=np.float32)
        matmul = np.matmul
    results = {}
    for name in names:
        floor = gemm_seconds(workload_gemms(name), matmul, make)
        lib.manual_seed(0)
        step = build_step(lib, MODEL_WORKLOADS[name], False, None).step
        step = lib.compile(step) if library == "ember" else step
        for _ in range(2):
            step()
        results[name] = (floor, _median_seconds(step, steps))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gemm_floor", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="mlp,gpt,lstm")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5, help="timed training steps per library and round")
    parser.add_argument("--rounds", type=int, default=2, help="fresh processes per library, alternating")
    parser.add_argument("--part", choices=["ember", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = args.only.split(",")
    for name in names:
        workload_gemms(name)  # an unknown name fails here, before any process starts
    if args.part:
        print(json.dumps(measure_part(args.part, names, args.steps, args.threads)))
        return 0
    from bench.harness import child_environment
    rounds = {"ember": [], "torch": []}
    for _ in range(args.rounds):  # one library per process: two BLAS thread pools in one process slow both
        for library in ("ember", "torch"):
            done = subprocess.run([sys.executable, "-m", "bench.gemm_floor", "--part", library, "--only", args.only,
                                   "--steps", str(args.steps), "--threads", str(args.threads)],
                                  env=child_environment(args.threads),
                                  capture_output=True, text=True, check=True)
            rounds[library].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print("| workload | GEMM floor, NumPy ms | GEMM floor, PyTorch ms | PyTorch eager step ms | Ember compiled step ms "
          "| NumPy floor / PyTorch step | Ember compiled / PyTorch step |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        figures = {library: [statistics.median(r[name][i] for r in rounds[library]) * 1e3 for i in (0, 1)]
                   for library in rounds}
        (floor_numpy, ember_ms), (floor_torch, torch_ms) = figures["ember"], figures["torch"]
        print(f"| {name} | {floor_numpy:.1f} | {floor_torch:.1f} | {torch_ms:.1f} | {ember_ms:.1f} "
              f"| {floor_numpy / torch_ms:.2f} | {ember_ms / torch_ms:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
