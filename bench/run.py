"""Side-by-side benchmarks of Ember and PyTorch (CPU): ``python -m bench [--quick] [--only NAME] [--profile]``.

Each workload runs on both libraries in the same run, alternating Ember and PyTorch round by round, each
round in a fresh process with the same thread count, float32, the same NumPy inputs and the same initial
weights (PyTorch's initialization, saved as NumPy arrays and loaded into both). The table gives the median
time per step over every timed step of every round, the min and max, the peak RSS of the child process
(``ru_maxrss``) and the ratio Ember/PyTorch against the target. A full run writes ``BENCHMARKS.md``.

>>> parse_args(["--quick", "--only", "mlp,cnn"]).only
['mlp', 'cnn']
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

from bench import startup
from bench.harness import REPOSITORY, Measurement, Row, child_environment, describe_result, record_result, run_child
from bench.micro import MICRO_BENCHMARKS
from bench.workloads import MODEL_WORKLOADS

LIBRARIES = ("ember", "torch")
LIBRARY_TITLES = {"ember": "Ember", "torch": "PyTorch"}
ALL_WORKLOADS = [*MODEL_WORKLOADS, "micro", "startup"]
IMPORT_TARGET_SECONDS = 0.2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: ``--quick``, ``--only``, ``--rounds``, ``--output``, ``--threads``, ``--profile``."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny step counts and shapes: a smoke run of a few seconds")
    parser.add_argument("--only", type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
                        action="extend", help=f"comma-separated workloads to run, of: {', '.join(ALL_WORKLOADS)}")
    parser.add_argument("--rounds", type=int, help="rounds per library (default: per workload; 1 with --quick)")
    parser.add_argument("--threads", type=int, default=2, help="threads per library (OMP/MKL/OpenBLAS and set_num_threads)")
    parser.add_argument("--output", help="markdown file to write (default: BENCHMARKS.md after a full run of all workloads)")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--append", action="store_true", help="add this run's tables at the end of the output file")
    parser.add_argument("--profile", action="store_true",
                        help="also run Ember once per selected workload under cProfile and print the top functions")
    parser.add_argument("--compiled", action="store_true",
                        help="after each model workload, a '<name> (compiled)' row: ember.compile vs eager, torch.compile")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a child process is abandoned")
    args = parser.parse_args(argv)
    unknown = [name for name in args.only or [] if name not in ALL_WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {ALL_WORKLOADS}")
    return args


def run_model_workload(name: str, args, weights_dir: str, log) -> Row:
    """Alternate Ember and PyTorch rounds of one model workload; return its table row."""
    workload = MODEL_WORKLOADS[name]
    rounds = args.rounds or (1 if args.quick else workload.rounds)
    warmup, steps = (1, 2) if args.quick else (workload.warmup, workload.steps)
    results = {library: Measurement() for library in LIBRARIES}
    for round_index in range(rounds):
        for library in LIBRARIES:
            result = run_child(["--lib", library, "--workload", name, "--weights", weights_dir, "--warmup", str(warmup),
                                "--steps", str(steps), *(["--quick"] if args.quick else [])], args.threads, args.timeout)
            measurement = results[library]
            record_result(measurement, result, result.get("times"))
            if "first_value" in result:
                measurement.first_value = result["first_value"]
                measurement.shared_weights = measurement.shared_weights and result["shared_weights"]
            log(f"  {name} round {round_index + 1}/{rounds} {library}: " + describe_result(result))
    note = _same_math_note(results)
    return Row(name, "ms/step", workload.target, results, note)


def _same_math_note(results: dict) -> str:
    ember, torch = results["ember"], results["torch"]
    if ember.first_value is None or torch.first_value is None:
        return ""
    if not (ember.shared_weights and torch.shared_weights):
        return "weights not shared"
    difference = abs(ember.first_value - torch.first_value) / max(abs(torch.first_value), 1e-12)
    return f"step-0 loss {ember.first_value:.5g} vs {torch.first_value:.5g} (rel. diff {difference:.1e})"


def run_micro(args, log) -> list[Row]:
    """Alternate Ember and PyTorch rounds of all micro benchmarks (one child per library and round)."""
    rounds = args.rounds or (1 if args.quick else 3)
    steps = 2 if args.quick else 7
    results = {benchmark.name: {library: Measurement() for library in LIBRARIES} for benchmark in MICRO_BENCHMARKS}
    for round_index in range(rounds):
        for library in LIBRARIES:
            result = run_child(["--lib", library, "--workload", "micro", "--steps", str(steps),
                                *(["--quick"] if args.quick else [])], args.threads, args.timeout)
            for benchmark in MICRO_BENCHMARKS:
                row_result = result if "unavailable" in result else {**result, **result["rows"][benchmark.name]}
                record_result(results[benchmark.name][library], row_result, row_result.get("times"))
            log(f"  micro round {round_index + 1}/{rounds} {library}: " + describe_result(result))
    rows = []
    for benchmark in MICRO_BENCHMARKS:
        row = Row(benchmark.name, benchmark.unit + "/call", benchmark.target, results[benchmark.name])
        if benchmark.flops is not None:
            flops = benchmark.flops(args.quick)
            row.note = "GFLOP/s: " + ", ".join(
                f"{LIBRARY_TITLES[library]} {flops / measurement.median() / 1e9:.1f}"
                for library, measurement in row.results.items() if measurement.median())
        rows.append(row)
    return rows


def run_startup(args, log) -> dict:
    """Import time (fresh interpreters, alternating), import offenders and installed size of both libraries."""
    samples = 1 if args.quick else 7
    env = child_environment(args.threads)
    figures = {library: {"seconds": [], "rss_mb": [], "unavailable": None} for library in LIBRARIES}
    for library in LIBRARIES:
        try:
            startup.import_cost(library, env, timeout=args.timeout)  # untimed: fills the bytecode cache
        except (subprocess.SubprocessError, ValueError, IndexError):
            pass
    for _ in range(samples):
        for library in LIBRARIES:
            try:
                seconds, rss_mb = startup.import_cost(library, env, timeout=args.timeout)
                figures[library]["seconds"].append(seconds)
                figures[library]["rss_mb"].append(rss_mb)
            except (subprocess.SubprocessError, ValueError, IndexError) as error:
                figures[library]["unavailable"] = f"{type(error).__name__}: {error}"[:300]
    for library in LIBRARIES:
        figures[library]["size_mb"] = startup.installed_size_mb(library)
        try:
            figures[library]["offenders"] = startup.import_time_offenders(library, env, top=10, timeout=args.timeout)
        except subprocess.SubprocessError:
            figures[library]["offenders"] = []
        seconds = figures[library]["seconds"]
        log(f"  startup {library}: " + (f"import median {statistics.median(seconds):.3f} s" if seconds else
                                        f"unavailable: {figures[library]['unavailable']}"))
    return figures


def prepare_weights(names: list[str], args, directory: str, log) -> None:
    """Save PyTorch's initial state dict of each selected model as NumPy arrays in ``directory``."""
    if not names:
        return
    result = run_child(["--lib", "torch", "--prepare-weights", directory, "--workloads", ",".join(names),
                        *(["--quick"] if args.quick else [])], args.threads, args.timeout)
    if "unavailable" in result:
        log(f"  initial weights: PyTorch unavailable ({result['unavailable']}); each library keeps its own init")
    else:
        failed = {name: status for name, status in result["prepared"].items() if status != "ok"}
        log("  initial weights saved" + (f"; failed: {failed}" if failed else ""))


def machine_info(threads: int) -> dict:
    """CPU model, core count, load average, NumPy's BLAS, library versions and the date.

    Importing both libraries here, in a child, also fills the bytecode cache before anything is timed.
    """
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = ""
    try:
        cpu_flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")).split()
        flags = ", ".join(flag for flag in ("avx2", "avx512f", "fma") if flag in cpu_flags)
    except (OSError, StopIteration):
        pass
    versions = subprocess.run([sys.executable, "-c", "import numpy, sys; print(numpy.__version__)\n"
                               "import ember; print(ember.__version__)\ntry:\n import torch; print(torch.__version__)\n"
                               "except Exception: print('unavailable')"],
                              capture_output=True, text=True, cwd=REPOSITORY, env=child_environment(threads)).stdout.split()
    versions += ["?"] * (3 - len(versions))
    return {"cpu": cpu, "cpu_flags": flags, "cores": os.cpu_count(), "load": os.getloadavg(), "blas": numpy_blas(),
            "python": platform.python_version(), "numpy": versions[0], "ember": versions[1], "torch": versions[2],
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "platform": platform.platform()}


def numpy_blas() -> str:
    """NumPy's BLAS as ``numpy.show_config`` reports it: name, version and build configuration."""
    import numpy
    try:
        blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return " ".join(str(part) for part in (blas.get("name"), blas.get("version"), blas.get("openblas configuration", "")) if part)
    except (TypeError, KeyError):
        captured = io.StringIO()
        with redirect_stdout(captured):
            numpy.show_config()
        return " ".join(captured.getvalue().split())[:200]


def _format_time(seconds: float | None, unit: str) -> str:
    if seconds is None:
        return "-"
    scale = {"us": 1e6, "ms": 1e3, "s": 1.0}[unit.split("/")[0]]
    value = seconds * scale
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def _format_rss(measurement: Measurement) -> str:
    if not measurement.peak_rss_mb:
        return "-"
    peak = max(measurement.peak_rss_mb)
    return f"{peak:.0f} (+{peak - min(measurement.import_rss_mb):.0f})"


def _cell(measurement: Measurement, unit: str) -> tuple[str, str]:
    if not measurement.times:
        return f"unavailable: {measurement.unavailable or 'no steps timed'}", "-"
    spread = f"{_format_time(min(measurement.times), unit)}–{_format_time(max(measurement.times), unit)}"
    return _format_time(measurement.median(), unit), spread


def results_table(rows: list[Row]) -> str:
    """The markdown table of all rows: medians, min–max, ratio against target, peak RSS."""
    lines = ["| Workload | Unit | Ember median | Ember min–max | PyTorch median | PyTorch min–max | Ember/PyTorch | Target | Met "
             "| Ember peak RSS MB (+over import) | PyTorch peak RSS MB (+over import) |",
             "|---|---|---:|---:|---:|---:|---:|---:|:-:|---:|---:|"]
    for row in rows:
        ember_median, ember_spread = _cell(row.results["ember"], row.unit)
        torch_median, torch_spread = _cell(row.results["torch"], row.unit)
        ratio = row.ratio()
        met = "-" if ratio is None or row.target is None else ("yes" if ratio <= row.target else "**no**")
        lines.append(f"| {row.name} | {row.unit} | {ember_median} | {ember_spread} | {torch_median} | {torch_spread} | "
                     f"{'-' if ratio is None else f'{ratio:.2f}'} | {'-' if row.target is None else f'<= {row.target:g}'} | {met} | "
                     f"{_format_rss(row.results['ember']) if row.unit == 'ms/step' else '-'} | "
                     f"{_format_rss(row.results['torch']) if row.unit == 'ms/step' else '-'} |")
    return "\n".join(lines)


def rss_check(rows: list[Row]) -> list[str]:
    """One line per training workload: is Ember's peak RSS at most PyTorch's (total, and over import)?"""
    lines = []
    for row in rows:
        if MODEL_WORKLOADS.get(row.name) is None or MODEL_WORKLOADS[row.name].optimizer is None:
            continue
        ember, torch = row.results["ember"], row.results["torch"]
        if not ember.peak_rss_mb or not torch.peak_rss_mb:
            continue
        ember_peak, torch_peak = max(ember.peak_rss_mb), max(torch.peak_rss_mb)
        ember_growth, torch_growth = ember_peak - min(ember.import_rss_mb), torch_peak - min(torch.import_rss_mb)
        lines.append(f"- {row.name}: peak {ember_peak:.0f} MB vs {torch_peak:.0f} MB ({'met' if ember_peak <= torch_peak else 'missed'}); "
                     f"over the import baseline {ember_growth:.0f} MB vs {torch_growth:.0f} MB "
                     f"({'met' if ember_growth <= torch_growth else 'missed'})")
    return lines


def startup_table(figures: dict) -> str:
    """The markdown table of import time, import RSS and installed size, plus Ember's import offenders."""
    def median_or_reason(library, key, fmt):
        values = figures[library][key]
        return fmt.format(statistics.median(values)) if values else f"unavailable: {figures[library]['unavailable']}"

    ember_seconds, torch_seconds = figures["ember"]["seconds"], figures["torch"]["seconds"]
    ratio = f"{statistics.median(ember_seconds) / statistics.median(torch_seconds):.2f}" if ember_seconds and torch_seconds else "-"
    met = "-" if not ember_seconds else ("yes" if statistics.median(ember_seconds) <= IMPORT_TARGET_SECONDS else "**no**")
    sizes = {library: figures[library]["size_mb"] for library in LIBRARIES}
    spread = {library: (f"{min(figures[library]['seconds']):.3f}–{max(figures[library]['seconds']):.3f}"
                        if figures[library]["seconds"] else "-") for library in LIBRARIES}
    lines = ["| Start-up | Ember | PyTorch | Ember/PyTorch | Target | Met |", "|---|---:|---:|---:|---:|:-:|",
             f"| import time, s (median) | {median_or_reason('ember', 'seconds', '{:.3f}')} | "
             f"{median_or_reason('torch', 'seconds', '{:.3f}')} | {ratio} | <= {IMPORT_TARGET_SECONDS} s | {met} |",
             f"| import time min–max, s | {spread['ember']} | {spread['torch']} | | | |",
             f"| peak RSS after import, MB | {median_or_reason('ember', 'rss_mb', '{:.0f}')} | "
             f"{median_or_reason('torch', 'rss_mb', '{:.0f}')} | | | |",
             "| installed size, MB (no `__pycache__`) | " + " | ".join(
                 "-" if sizes[library] is None else f"{sizes[library]:.1f}" for library in LIBRARIES) + " | | | |",
             "", "`python -X importtime -c \"import ember\"`, largest self times:", "",
             "| module | self ms | cumulative ms |", "|---|---:|---:|"]
    lines += [f"| {name} | {self_ms:.1f} | {cumulative_ms:.1f} |" for name, self_ms, cumulative_ms in figures["ember"]["offenders"]]
    return "\n".join(lines)


def _results_sections(info: dict, rows: list[Row], startup_figures: dict | None, args, load_after: tuple, heading: str) -> list[str]:
    loaded = max(info["load"][0], load_after[0]) >= 0.5 * (info["cores"] or 1)
    parts = [f"## {heading}", "",
             f"- {args.threads} thread(s) per library; date {info['date']}"
             + (" (quick smoke run: shapes and step counts reduced, figures not comparable)" if args.quick else ""),
             f"- Load average before / after the run: {info['load'][0]:.2f} / {load_after[0]:.2f}"
             + (" — **the machine was loaded by other work during this run: absolute times are noisy, and multi-threaded "
                "BLAS/OpenMP calls pay for every worker thread that is descheduled at a barrier, which hurts many small "
                "calls (Ember's per-matrix batched GEMMs, per-time-step LSTM GEMMs) most; read the ratios, measured "
                "alternately in the same run.**" if loaded and args.threads > 1 else
                " — **the machine was loaded by other work during this run: absolute times are noisy; read the ratios.**"
                if loaded else ""),
             "", results_table(rows), ""]
    notes = [f"- {row.name}: {row.note}" for row in rows if row.note]
    if notes:
        parts += ["Notes (step-0 loss of both libraries from the same weights and inputs, GEMM throughput):", "", *notes, ""]
    rss = rss_check(rows)
    if rss:
        parts += ["Peak RSS of the training workloads (target: Ember <= PyTorch):", "", *rss, ""]
    if startup_figures is not None:
        parts += ["### Start-up", "", startup_table(startup_figures), ""]
    return parts


def markdown_report(info: dict, rows: list[Row], startup_figures: dict | None, args, load_after: tuple) -> str:
    """The whole ``BENCHMARKS.md``: how to run, the machine, the tables and notes."""
    parts = [
        "# Benchmarks: Ember vs PyTorch (CPU)", "",
        "Generated by `python -m bench` (`--quick` for a smoke run, `--only NAME` to select, `--threads N`, `--profile` for "
        "cProfile of Ember, `--append` to add a run below this one). "
        "Each workload runs on both libraries in the same run, alternating Ember and PyTorch round by round, each round in a "
        "fresh process; the same thread count for both (`OMP_NUM_THREADS`, `MKL_NUM_THREADS`, `OPENBLAS_NUM_THREADS`, "
        "`set_num_threads`), float32, fixed seeds, the same NumPy inputs, and the same initial weights (PyTorch's "
        "initialization copied into Ember through NumPy). A training step is forward + loss + backward + optimizer step. "
        "Times are medians over all timed steps of all rounds (after warm-up); min–max over the same steps. Peak RSS is "
        "the child's `ru_maxrss` (the interpreter, the library and the workload); in brackets, the growth over the RSS "
        "right after importing the library.", "",
        "## Machine", "",
        f"- CPU: {info['cpu']} ({info['cores']} logical cores; {info['cpu_flags'] or 'flags unknown'})",
        f"- NumPy BLAS: {info['blas']}",
        f"- Python {info['python']}, NumPy {info['numpy']}, Ember {info['ember']}, PyTorch {info['torch']}; {info['platform']}",
        "",
    ]
    parts += _results_sections(info, rows, startup_figures, args, load_after, "Results")
    parts += ["## Workloads", ""]
    parts += [f"- `{workload.name}`: {workload.description}; target Ember/PyTorch <= {workload.target:g}"
              for workload in MODEL_WORKLOADS.values()]
    parts += ["- `micro`: per-call time of tiny-tensor ops (dispatch overhead, target <= 2x), float32 GEMM, conv2d and "
              "softmax/layer_norm/cross_entropy forward+backward, an elementwise chain",
              f"- `startup`: `import` time in a fresh interpreter (median of several; target `import ember` <= {IMPORT_TARGET_SECONDS} s), "
              "`-X importtime` offenders, installed package size", ""]
    return "\n".join(parts)


def appended_report(info: dict, rows: list[Row], startup_figures: dict | None, args, load_after: tuple) -> str:
    """A further run's tables, to add at the end of an existing report (``--append``)."""
    heading = f"Additional run: {args.threads} thread(s), {info['date']}"
    return "\n".join(["", *_results_sections(info, rows, startup_figures, args, load_after, heading)])


def print_profiles(names: list[str], args, weights_dir: str, log) -> None:
    """Run Ember once per workload under cProfile and print the top functions by cumulative and own time."""
    for name in names:
        if name == "startup":
            continue
        with tempfile.NamedTemporaryFile(suffix=".prof", delete=False) as handle:
            profile_path = handle.name
        arguments = ["--lib", "ember", "--workload", name, "--profile", profile_path, "--steps", "2" if args.quick else "5"]
        if name != "micro":
            arguments += ["--weights", weights_dir, "--warmup", "1"]
        arguments += ["--quick"] if args.quick else []
        result = run_child(arguments, args.threads, args.timeout)
        if "unavailable" in result or not os.path.getsize(profile_path):
            log(f"profile {name}: unavailable: {result.get('unavailable')}")
            continue
        for order in ("cumulative", "tottime"):
            captured = io.StringIO()
            pstats.Stats(profile_path, stream=captured).strip_dirs().sort_stats(order).print_stats(25)
            log(f"\n===== Ember profile: {name}, by {order} =====\n" + captured.getvalue().split("\n\n", 1)[-1].rstrip())
        os.unlink(profile_path)


def main(argv: list[str] | None = None) -> int:
    """Run the selected workloads, print the tables, and write the markdown report."""
    args = parse_args(argv)
    names = args.only or ALL_WORKLOADS

    def log(message):
        print(message, flush=True)

    info = machine_info(args.threads)
    log(f"CPU {info['cpu']}, {args.threads} threads, load average {info['load'][0]:.2f}; NumPy BLAS {info['blas'][:80]}")
    rows: list[Row] = []
    startup_figures = None
    with tempfile.TemporaryDirectory(prefix="ember-bench-") as weights_dir:
        prepare_weights([name for name in names if name in MODEL_WORKLOADS], args, weights_dir, log)
        for name in names:
            started = time.perf_counter()
            log(f"{name}:")
            if name in MODEL_WORKLOADS:
                rows.append(run_model_workload(name, args, weights_dir, log))
                if args.compiled:
                    from bench.compiled import run_compiled_workload
                    rows.append(run_compiled_workload(name, args, weights_dir, log))
            elif name == "micro":
                rows.extend(run_micro(args, log))
            elif name == "startup":
                startup_figures = run_startup(args, log)
            log(f"  ({time.perf_counter() - started:.1f} s)")
        if args.profile:
            print_profiles(names, args, weights_dir, log)
    load_after = os.getloadavg()
    log("")
    if rows:
        log(results_table(rows))
        for line in rss_check(rows):
            log(line)
    if startup_figures is not None:
        log("")
        log(startup_table(startup_figures))
    default_output = None if (args.quick or args.only) and not args.append else str(REPOSITORY / "BENCHMARKS.md")
    output = args.output or default_output
    if output and not args.no_write:
        if args.append and Path(output).exists():
            with open(output, "a") as handle:
                handle.write(appended_report(info, rows, startup_figures, args, load_after))
        else:
            Path(output).write_text(markdown_report(info, rows, startup_figures, args, load_after))
        log(f"\nwrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
