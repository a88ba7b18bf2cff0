"""``ember info``: Ember's version, Python, NumPy and its BLAS, thread counts, optional extras, and the CPU.

Optional packages are looked up with ``importlib.util.find_spec`` and their versions read from the installed
metadata, so none of them (PyTorch in particular) is imported.

>>> from ember.cli.info import collect
>>> report = collect()
>>> sorted(report)[:3], report["ember"] == ember.__version__
(['blas', 'cpu', 'ember'], True)
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.metadata
import importlib.util
import os
import platform
import sys

import numpy as np

import ember

__all__ = ["add_arguments", "run", "collect", "numpy_blas", "blas_threads", "optional_extras", "cpu_model", "EXTRAS"]

# Import name -> (distribution name, what Ember uses it for).
EXTRAS = {
    "tqdm": ("tqdm", "progress bars (a runtime dependency)"),
    "PIL": ("Pillow", "reading image files"),
    "safetensors": ("safetensors", "cross-checking checkpoints (Ember reads and writes safetensors itself)"),
    "scipy": ("scipy", "optional numerics"),
    "mpi4py": ("mpi4py", "ember.distributed"),
    "onnx": ("onnx", "ONNX export and import"),
    "cupy": ("cupy", "a GPU backend"),
    "torch": ("torch", "the test oracle (never imported by Ember)"),
    "pytest": ("pytest", "running the tests"),
}
# Runtime thread-count getters exported by the BLAS libraries NumPy ships with.
_THREAD_GETTERS = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads", "openblas_get_num_threads64_",
                   "openblas_get_num_threads", "MKL_Get_Max_Threads", "bli_thread_get_num_threads")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``ember info`` takes no options besides ``--debug``.

    >>> add_arguments(argparse.ArgumentParser())
    """


def numpy_blas() -> str:
    """NumPy's BLAS library as NumPy's build configuration reports it (name, version, configuration).

    >>> isinstance(numpy_blas(), str)
    True
    """
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
    except (TypeError, KeyError):  # NumPy < 1.26 has no mode="dicts"
        return "unknown (NumPy's build configuration does not say)"
    details = blas.get("openblas configuration", "").strip()
    text = f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()
    return f"{text} ({details})" if details else text


def blas_threads():
    """The thread count NumPy's BLAS will use, asked from the loaded library itself; None if it can't be asked.

    >>> threads = blas_threads()
    >>> threads is None or threads >= 1
    True
    """
    try:
        with open("/proc/self/maps") as maps:
            libraries = {line.split()[-1] for line in maps if "blas" in line.lower() and ".so" in line}
    except OSError:
        return None
    for library in sorted(libraries):
        try:
            handle = ctypes.CDLL(library)
        except OSError:
            continue
        for name in _THREAD_GETTERS:
            getter = getattr(handle, name, None)
            if getter is not None:
                getter.restype = ctypes.c_int
                getter.argtypes = []
                return int(getter())
    return None


def optional_extras() -> dict:
    """``{distribution: version or None}`` for each optional package, found without importing it.

    >>> {"torch", "Pillow", "tqdm"} <= set(optional_extras())
    True
    """
    found = {}
    for module, (distribution, _) in EXTRAS.items():
        try:
            present = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            present = False
        version = None
        if present:
            try:
                version = importlib.metadata.version(distribution)
            except importlib.metadata.PackageNotFoundError:
                version = "installed"
        found[distribution] = version
    return found


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` says.

    >>> isinstance(cpu_model(), str)
    True
    """
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _thread_settings() -> str:
    variables = [f"{name}={os.environ[name]}" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                 if name in os.environ]
    return ", ".join(variables) if variables else "none set"


def collect() -> dict:
    """Everything ``ember info`` prints, as a dict of strings.

    >>> set(collect()) >= {"ember", "python", "numpy", "blas", "threads", "cpu", "extras"}
    True
    """
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = blas_threads()
    extras = optional_extras()
    return {
        "ember": ember.__version__,
        "python": f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable})",
        "platform": platform.platform(),
        "numpy": np.__version__,
        "blas": numpy_blas(),
        "threads": (f"BLAS uses {threads if threads is not None else 'an unknown number of'} threads; {usable} of "
                    f"{os.cpu_count()} CPUs usable; thread variables: {_thread_settings()}"),
        "cpu": cpu_model(),
        "extras": ", ".join(f"{name} {version}" if version else f"{name} (not installed)" for name, version in extras.items()),
    }


def run(args) -> int:
    """Print the report; returns 0.

    >>> run(argparse.Namespace())  # doctest: +ELLIPSIS
    ember     ...
    0
    """
    report = collect()
    labels = {"ember": "ember", "python": "python", "platform": "platform", "numpy": "numpy", "blas": "BLAS",
              "threads": "threads", "cpu": "CPU", "extras": "extras"}
    for key, label in labels.items():
        print(f"{label:<9} {report[key]}")
    return 0
