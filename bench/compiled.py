"""Compiled rows: ``python -m bench --compiled`` adds "mlp (compiled)", "gpt (compiled)" ... beside the eager rows.

Each compiled row times, in the same run and alternating round by round (one fresh process per library, mode
and round): Ember's ``ember.compile``-d training step, Ember eager, PyTorch eager and ``torch.compile`` (when
it works on this machine). The row's ratio is Ember compiled / PyTorch eager (the issue's target); the note
gives Ember eager, torch.compile, both first-call (compile) times and the peak memory growth of a compiled
step against an eager one. One round in a child: ``python -m bench.compiled --lib ember --mode compiled
--workload mlp``.

>>> COMPILED_TARGETS["mlp"], compiled_row_name("gpt")
(0.8, 'gpt (compiled)')
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import traceback


from bench.harness import Measurement, Row, describe_result, record_result, run_child
from bench.measure import (RESULT_PREFIX, _import_library, _load_state_dict, _reason, _rss_mb, current_rss_mb,
                           peak_rss_since_reset_mb, reset_peak_rss)

__all__ = ["COMPILED_TARGETS", "MODES", "compiled_row_name", "compiled_step", "run_compiled_workload", "main"]

# compiled step / PyTorch eager step (issue 6)
COMPILED_TARGETS = {"mlp": 0.8, "cnn": 1.0, "gpt": 0.8, "lstm": 0.8, "resnet18": 1.0}
# peak memory of a compiled training step / the same step in Ember's eager mode (issue 6)
COMPILED_MEMORY_TARGET = 0.8
# (library, mode) per column; the first two fill the table's Ember and PyTorch cells
MODES = (("ember", "compiled"), ("torch", "eager"), ("ember", "eager"), ("torch", "compiled"))
MODEL_SEED = 0


def compiled_row_name(workload: str) -> str:
    """The table row of ``workload``'s compiled variant."""
    return f"{workload} (compiled)"


def compiled_step(lib, workload, quick: bool, state_dict: dict | None, mode: str):
    """``(step, first_value)`` of ``workload`` on ``lib``; with ``mode == "compiled"`` the whole step (zero_grad,
    forward, backward, optimizer step) is one ``lib.compile``-d function.

    >>> import ember
    >>> from bench.workloads import MODEL_WORKLOADS
    >>> step, first = compiled_step(ember, MODEL_WORKLOADS["mlp"], True, None, "compiled")
    >>> _ = step(); _ = step(); isinstance(first, float)
    True
    """
    from bench.workloads import prepared_step
    step, first_value = prepared_step(lib, workload, quick, state_dict)
    return (lib.compile(step) if mode == "compiled" else step), first_value


def measure(lib_name: str, mode: str, name: str, quick: bool, weights_dir: str | None, warmup: int, steps: int,
            threads: int, cold_cache: bool = False, trace_memory: bool = False) -> dict:
    """One round: import, build, time the first call (capture/compile), ``warmup`` more, then ``steps`` timed.
    ``cold_cache`` points Ember's kernel cache at an empty directory, so the first call compiles every C kernel.
    ``trace_memory`` times nothing: it measures the step's arrays with ``tracemalloc`` (see ``traced_memory``)."""
    from bench.workloads import MODEL_WORKLOADS
    import_start = time.perf_counter()
    lib = _import_library(lib_name, threads)
    result = {"import_seconds": time.perf_counter() - import_start, "rss_after_import_mb": _rss_mb()}
    if cold_cache:  # set after the timed import: Ember reads its cache directory when it first compiles a kernel
        import tempfile
        from ember import flags
        os.environ[flags.CACHE_DIR.name] = tempfile.mkdtemp(prefix="ember-bench-kernels-")
    lib.manual_seed(MODEL_SEED)
    state_dict = _load_state_dict(weights_dir, name, quick)
    if trace_memory:  # from before the model exists: arrays a step frees must have been traced to be subtracted
        import tracemalloc
        tracemalloc.start()
    step, first_value = compiled_step(lib, MODEL_WORKLOADS[name], quick, state_dict, mode)
    result["rss_after_setup_mb"] = _rss_mb()
    if trace_memory:
        result.update(traced_memory(step, warmup, steps))
        result.update({"first_value": first_value, "shared_weights": state_dict is not None,
                       "cold_cache": cold_cache})
        return result
    setup_rss = current_rss_mb()
    start = time.perf_counter()
    step()
    result["first_call_seconds"] = time.perf_counter() - start
    for _ in range(warmup):
        step()
    # The memory of a step in steady state: the peak over the timed steps (after a reset of the peak), above the
    # resident size after setup (model, inputs, optimizer; gradients and optimizer state are created by steps).
    measured = reset_peak_rss()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    step_peak = peak_rss_since_reset_mb() if measured else None
    if step_peak is not None and setup_rss is not None:
        result["step_memory_mb"] = step_peak - setup_rss
    result.update({"times": times, "first_value": first_value, "shared_weights": state_dict is not None,
                   "cold_cache": cold_cache})
    return result


def traced_memory(step, warmup: int, steps: int) -> dict:
    """What the step allocates, as ``tracemalloc`` sees it (NumPy reports its arrays there): the peak over the
    ``steps`` after the first call and ``warmup`` (``traced_step_mb``) and what stays allocated between steps
    (``traced_held_mb``: gradients, optimizer state, a compiled step's arena), both over the memory traced
    before the first call. Unlike RSS it does not depend on how the C allocator reuses freed pages, so it is
    the same on every run. Start ``tracemalloc`` before building the model (a step that frees an array allocated
    before tracing began is not credited for it); this stops it."""
    import tracemalloc
    if not tracemalloc.is_tracing():
        tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(1 + max(warmup, 1)):
            step()
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for _ in range(max(min(steps, 3), 1)):
            step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return {"traced_step_mb": (peak - base) / 2**20, "traced_held_mb": (held - base) / 2**20}


def run_compiled_workload(name: str, args, weights_dir: str, log):
    """Alternate the four (library, mode) columns of ``name`` round by round; return the compiled row."""
    from bench.workloads import MODEL_WORKLOADS
    workload = MODEL_WORKLOADS[name]
    rounds = args.rounds or (1 if args.quick else workload.rounds)
    warmup, steps = (1, 2) if args.quick else (workload.warmup, workload.steps)
    columns = {column: Measurement() for column in MODES}
    first_calls = {column: [] for column in MODES}
    step_memories = {column: [] for column in MODES}
    cold_first_calls = []  # Ember's first call with an empty kernel cache (round 1); later rounds read the cache
    for round_index in range(rounds):
        for column in MODES:
            library, mode = column
            if columns[column].unavailable and not columns[column].times:
                continue  # torch.compile failing once (no toolchain) fails every round: do not pay for it again
            cold = library == "ember" and mode == "compiled" and round_index == 0
            result = run_child_compiled(library, mode, name, weights_dir, warmup, steps, args, cold)
            record_result(columns[column], result, result.get("times"))
            if "first_call_seconds" in result:
                first_calls[column].append(result["first_call_seconds"])
                if cold:
                    cold_first_calls.append(result["first_call_seconds"])
                columns[column].first_value = result["first_value"]
            if "step_memory_mb" in result:
                step_memories[column].append(result["step_memory_mb"])
            log(f"  {compiled_row_name(name)} round {round_index + 1}/{rounds} {library} {mode}: " + describe_result(result))
    results = {"ember": columns[("ember", "compiled")], "torch": columns[("torch", "eager")]}
    # the memory target is about training steps; an inference pass keeps nothing between calls
    first_calls[("ember", "cold")] = cold_first_calls
    traced = {}
    if workload.optimizer is not None:
        for mode in ("compiled", "eager"):
            result = run_child_compiled("ember", mode, name, weights_dir, warmup, steps, args,
                                        trace_memory=True)
            if "traced_step_mb" in result:
                traced[mode] = result
            log(f"  {compiled_row_name(name)} traced memory, ember {mode}: " + describe_result(result))
    note = compiled_note(columns, first_calls, step_memories if workload.optimizer is not None else None, traced)
    return Row(compiled_row_name(name), "ms/step", COMPILED_TARGETS.get(name), results, note)


def run_child_compiled(library, mode, name, weights_dir, warmup, steps, args, cold=False, trace_memory=False) -> dict:
    """Run one round of ``python -m bench.compiled`` in a fresh process (through ``bench.harness.run_child``)."""
    arguments = ["--lib", library, "--mode", mode, "--workload", name, "--weights", weights_dir, "--warmup", str(warmup),
                 "--steps", str(steps), *(["--quick"] if args.quick else []), *(["--cold-cache"] if cold else []),
                 *(["--trace-memory"] if trace_memory else [])]
    return run_child(arguments, args.threads, args.timeout, module="bench.compiled")


def compiled_note(columns: dict, first_calls: dict, step_memories: dict | None = None, traced: dict | None = None) -> str:
    """Ember eager and torch.compile figures, first-call times and memory, as one note.

    ``step_memories`` maps a column to its rounds' step memory (MB, RSS); ``traced`` maps "compiled" and "eager"
    to a ``traced_memory`` result: compiled against eager, traced, is the issue's memory target.
    """
    step_memories = step_memories or {}
    def median_ms(column):
        value = columns[column].median()
        return None if value is None else value * 1e3

    parts = []
    ember_compiled, ember_eager = median_ms(("ember", "compiled")), median_ms(("ember", "eager"))
    torch_compiled = median_ms(("torch", "compiled"))
    if ember_eager is not None:
        ratio = f" (Ember compiled/eager {ember_compiled / ember_eager:.2f})" if ember_compiled else ""
        parts.append(f"Ember eager {ember_eager:.3g} ms{ratio}")
    if torch_compiled is not None:
        ratio = f" (Ember compiled/torch.compile {ember_compiled / torch_compiled:.2f})" if ember_compiled else ""
        parts.append(f"torch.compile {torch_compiled:.3g} ms{ratio}")
    else:
        parts.append(f"torch.compile unavailable: {columns[('torch', 'compiled')].unavailable}")
    cold, all_ember = first_calls.get(("ember", "cold"), []), first_calls.get(("ember", "compiled"), [])
    warm = list(all_ember)
    for value in cold:
        warm.remove(value)
    if all_ember:
        # The first call runs the step once eagerly while capturing it. What compiling adds is measured against
        # eager mode's own first call (a fresh process pays for page faults, lazy imports and kernel loading
        # there too), not against a warmed-up eager step.
        eager_first = first_calls.get(("ember", "eager"), [])
        eager_step = f", one eager step {ember_eager / 1e3:.2f} s" if ember_eager is not None else ""
        split = (f" (empty kernel cache {max(cold):.2f} s, from the disk cache {statistics.median(warm):.2f} s)"
                 if cold and warm else "")
        parts.append(f"first call Ember {statistics.median(all_ember):.2f} s{split}{eager_step}")
        if eager_first:
            baseline = statistics.median(eager_first)
            added = [f"compiling adds (first call compiled - first call eager {baseline:.2f} s): "]
            if cold:
                added.append(f"{max(cold) - baseline:.2f} s with an empty kernel cache (target <= 3 s)")
            if warm:
                added.append(f"{', ' if cold else ''}{statistics.median(warm) - baseline:.2f} s from the disk cache "
                             "(target <= 0.3 s)")
            parts.append("".join(added))
    if first_calls.get(("torch", "compiled")):
        parts.append(f"first call torch.compile {statistics.median(first_calls[('torch', 'compiled')]):.2f} s")
    step_memory = {column: max(values) for column, values in step_memories.items() if values}
    if ("ember", "compiled") in step_memory and ("ember", "eager") in step_memory:
        compiled_mb, eager_mb = step_memory[("ember", "compiled")], step_memory[("ember", "eager")]
        ratio = compiled_mb / eager_mb if eager_mb > 0 else float("nan")
        parts.append(f"step memory as RSS (peak RSS of the timed steps over the RSS after setup): Ember compiled "
                     f"{compiled_mb:.0f} MB vs eager {eager_mb:.0f} MB, {ratio:.2f}x")
    traced = traced or {}
    if "compiled" in traced and "eager" in traced:
        compiled_mb, eager_mb = traced["compiled"]["traced_step_mb"], traced["eager"]["traced_step_mb"]
        ratio = compiled_mb / eager_mb if eager_mb > 0 else float("nan")
        met = "met" if ratio <= COMPILED_MEMORY_TARGET else "not met"
        parts.append(f"step memory traced (tracemalloc peak of a step's arrays over the memory before the first "
                     f"call): Ember compiled {compiled_mb:.1f} MB vs eager {eager_mb:.1f} MB, {ratio:.2f}x (target "
                     f"<= {COMPILED_MEMORY_TARGET}x, {met}); of which kept between steps (gradients, optimizer "
                     f"state, the compiled arena) {traced['compiled']['traced_held_mb']:.1f} MB vs "
                     f"{traced['eager']['traced_held_mb']:.1f} MB")
    growth = {}
    for column in (("ember", "compiled"), ("ember", "eager")):
        measurement = columns[column]
        if measurement.peak_rss_mb:
            growth[column] = max(measurement.peak_rss_mb) - min(measurement.import_rss_mb)
    if len(growth) == 2:
        parts.append(f"whole-process peak RSS over import (first call included): Ember compiled "
                     f"{growth[('ember', 'compiled')]:.0f} MB vs eager {growth[('ember', 'eager')]:.0f} MB")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    """One measurement round in this process; prints the ``BENCH_RESULT`` line (always exits 0 once started)."""
    parser = argparse.ArgumentParser(prog="python -m bench.compiled", description=__doc__.splitlines()[0])
    parser.add_argument("--lib", choices=["ember", "torch"], required=True)
    parser.add_argument("--mode", choices=["eager", "compiled"], default="compiled")
    parser.add_argument("--workload", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--weights", help="directory of <workload>.npz initial state dicts")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cold-cache", action="store_true", help="compile Ember's C kernels into an empty cache")
    parser.add_argument("--trace-memory", action="store_true", help="measure the step's arrays with tracemalloc")
    args = parser.parse_args(argv)
    try:
        result = measure(args.lib, args.mode, args.workload, args.quick, args.weights, args.warmup, args.steps, args.threads,
                         args.cold_cache, args.trace_memory)
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        result = {"unavailable": _reason(error)}
    result["peak_rss_mb"] = _rss_mb()
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
