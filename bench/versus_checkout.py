"""Ember here against Ember in another checkout: the same workloads, eager and compiled, alternating fresh
processes round by round, so a change can be shown not to slow any workload down.

``git worktree add ../ember-before <commit>`` makes the other checkout; then
``python -m bench.versus_checkout ../ember-before [--only mlp,gpt,micro] [--rounds 5]`` prints, per workload and
mode, the median over rounds of each checkout's median step time (ms; ``micro``: per call) and the median and range of
the per-round ratios (this checkout over the other, run back to back; above 1 is slower). The checkouts take turns
going first. Each child runs ``python -m bench.measure`` (eager) or ``python -m
bench.compiled --mode compiled`` in its own checkout, with the same initial weights (PyTorch's initialization,
written once) and the same thread count.

>>> parse_args(["../before", "--only", "mlp"]).only
['mlp']
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench.harness import REPOSITORY, run_child
from bench.workloads import MODEL_WORKLOADS


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.versus_checkout", description=__doc__.splitlines()[0])
    parser.add_argument("other", help="the other checkout's root (e.g. made with git worktree add)")
    parser.add_argument("--only", type=lambda text: [name for name in text.split(",") if name],
                        help=f"comma-separated workloads, of: {', '.join(MODEL_WORKLOADS)}, micro")
    parser.add_argument("--modes", default="eager,compiled", help="eager, compiled or both (comma-separated)")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per checkout, alternating")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=900.0)
    return parser.parse_args(argv)


def _measure(checkout: Path, mode: str, workload: str, weights: str, args) -> dict:
    """One measurement in a fresh process whose working directory (so whose ``ember``) is ``checkout``."""
    if workload == "micro":
        return run_child(["--lib", "ember", "--workload", "micro", "--steps", "7"], args.threads, args.timeout,
                         checkout=checkout)
    spec = MODEL_WORKLOADS[workload]
    common = ["--lib", "ember", "--workload", workload, "--weights", weights, "--warmup", str(spec.warmup),
              "--steps", str(spec.steps)]
    if mode == "eager":
        return run_child(common, args.threads, args.timeout, checkout=checkout)
    return run_child(["--mode", "compiled", *common], args.threads, args.timeout, "bench.compiled", checkout)


def main(argv=None) -> int:
    args = parse_args(argv)
    other = Path(args.other).resolve()
    checkouts = {"here": REPOSITORY, "other": other}
    workloads = args.only or list(MODEL_WORKLOADS)
    modes = [mode for mode in args.modes.split(",") if mode]
    with tempfile.TemporaryDirectory(prefix="ember-weights-") as weights:
        run_child(["--lib", "torch", "--prepare-weights", weights, "--workloads", ",".join(workloads)], args.threads,
                  args.timeout)
        print(f"here: {REPOSITORY}\nother: {other}\n")
        print("| workload | mode | here ms | other ms | here / other (median of rounds) | range over rounds |")
        print("|---|---|---|---|---|---|")
        for workload in workloads:
            for mode in (["eager"] if workload == "micro" else modes):
                rounds: dict = {}  # row -> one {checkout: median step time} per round
                for round_index in range(args.rounds):
                    order = list(checkouts.items())  # each checkout goes first in every other round
                    medians: dict = {}
                    for name, checkout in (order if round_index % 2 == 0 else order[::-1]):
                        result = _measure(checkout, mode, workload, weights, args)
                        if "unavailable" in result:
                            print(f"  {workload} {mode} {name}: unavailable: {result['unavailable']}", file=sys.stderr)
                        for row, row_result in result.get("rows", {workload: result}).items():
                            if row_result.get("times"):
                                medians.setdefault(row, {})[name] = statistics.median(row_result["times"]) * 1e3
                    for row, by_checkout in medians.items():
                        if len(by_checkout) == 2:
                            rounds.setdefault(row, []).append(by_checkout)
                for row, paired in rounds.items():
                    # the two checkouts of a round ran back to back, so their ratio is the least disturbed figure
                    ratios = sorted(pair["here"] / pair["other"] for pair in paired)
                    here = statistics.median(pair["here"] for pair in paired)
                    there = statistics.median(pair["other"] for pair in paired)
                    print(f"| {row} | {mode} | {here:.3f} | {there:.3f} | {statistics.median(ratios):.3f} | "
                          f"{ratios[0]:.2f}–{ratios[-1]:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
