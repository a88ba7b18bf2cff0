"""Fused C kernels: generated C source compiled once with the system C compiler, loaded through cffi.

``load_kernels(source, declarations)`` compiles ``source`` into a shared library (``-O3``, OpenMP when
``-fopenmp`` works) cached on disk under ``$EMBER_CACHE_DIR`` (default ``~/.cache/ember/kernels``), named by
a hash of the source, the flags and the CPU, so a later process loads it without compiling; it returns a
cffi library whose functions take NumPy arrays through :func:`pointer`. With no C compiler or no cffi it
returns ``None`` and warns once; callers then run their NumPy code.

Floating-point contraction is off (``-ffp-contract=off``, no ``-ffast-math``), so a kernel that performs the
same float32 operations in the same order as the NumPy code gives the same bits; ``-fno-trapping-math`` only
lets the compiler turn selects (``a > b ? a : b``) into vector blends.

>>> lib = load_kernels("void twice(float* x, long n) { for (long i = 0; i < n; i++) x[i] *= 2; }",
...                    "void twice(float* x, long n);")
>>> import numpy as np
>>> x = np.ones(3, np.float32)
>>> if lib is not None:
...     lib.twice(pointer(x), x.size)
... else:
...     x *= 2
>>> x
array([2., 2., 2.], dtype=float32)
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings

__all__ = ["load_kernels", "pointer", "null_pointer", "available", "eager_allowed", "EagerKernels", "cache_dir",
           "num_threads", "OMP_PARALLEL_FOR"]

_LOADED: dict = {}
_LOCK = threading.Lock()
_STATE = {"checked": False, "compiler": None, "openmp": False, "warned": False, "ffi": None, "reason": None}

# The pragma kernels put before a loop over ``n`` elements; splitting small loops across threads costs more
# than it saves.
OMP_PARALLEL_FOR = "#pragma omp parallel for num_threads(threads) schedule(static) if (n > 65536)"

_BASE_FLAGS = ["-O3", "-march=native", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", "-shared", "-fPIC", "-std=c99"]


def cache_dir() -> str:
    """Where compiled kernels are kept: ``$EMBER_CACHE_DIR`` or ``~/.cache/ember/kernels``.

    >>> cache_dir().endswith("kernels") or "EMBER_CACHE_DIR" in __import__("os").environ
    True
    """
    override = os.environ.get("EMBER_CACHE_DIR")
    if override:
        return override
    return os.path.join(os.path.expanduser("~"), ".cache", "ember", "kernels")


def num_threads() -> int:
    """Threads a fused kernel uses: ``OMP_NUM_THREADS`` if set, else 2 (at most the CPU count).

    >>> num_threads() >= 1
    True
    """
    value = os.environ.get("OMP_NUM_THREADS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, min(2, os.cpu_count() or 1))


@functools.lru_cache(maxsize=None)
def _cpu_tag() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name") or line.startswith("flags"):
                    return line
    except OSError:
        pass
    import platform
    return platform.machine()


def _check_toolchain():
    if _STATE["checked"]:
        return
    _STATE["checked"] = True
    try:
        import cffi
    except ImportError:
        _STATE["reason"] = "cffi is not installed (pip install ember[compile])"
        return
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        _STATE["reason"] = "no C compiler found (set CC or install gcc)"
        return
    _STATE["compiler"] = compiler
    _STATE["ffi"] = cffi.FFI()
    with tempfile.TemporaryDirectory(prefix="ember-omp-") as scratch:
        probe = os.path.join(scratch, "probe.c")
        with open(probe, "w") as handle:
            handle.write("#include <omp.h>\nint probe(void) { return omp_get_max_threads(); }\n")
        done = subprocess.run([compiler, "-fopenmp", "-shared", "-fPIC", probe, "-o", os.path.join(scratch, "p.so")],
                              capture_output=True)
        _STATE["openmp"] = done.returncode == 0


def available() -> bool:
    """Whether fused C kernels can be compiled here (cffi and a C compiler).

    >>> isinstance(available(), bool)
    True
    """
    _check_toolchain()
    return _STATE["compiler"] is not None


def eager_allowed(switch: str | None = None) -> bool:
    """Whether eager-mode ops may run fused C kernels: the ``compile`` extra works here (quietly checked: no
    warning without it), ``EMBER_FUSED_KERNELS`` is not ``0``, and neither is the op family's own ``switch``
    variable (``EMBER_FUSED_OPTIM``, ``EMBER_FUSED_RNN``, ``EMBER_FUSED_GELU``).

    >>> isinstance(eager_allowed("EMBER_FUSED_GELU"), bool)
    True
    """
    if os.environ.get("EMBER_FUSED_KERNELS", "1") == "0" or (switch and os.environ.get(switch, "1") == "0"):
        return False
    return available()


class EagerKernels:
    """A kernel library that eager-mode ops use: compiled or loaded on first use when :func:`eager_allowed`
    (``switch`` is the family's opt-out variable), else None. ``state`` (``lib``, ``checked``) is the module's cache.

    >>> lib = EagerKernels("int seven(void) { return 7; }", "int seven(void);", "EMBER_FUSED_DOCTEST").library()
    >>> lib is None or lib.seven() == 7
    True
    """

    def __init__(self, source: str, declarations: str, switch: str):
        self.source = source
        self.declarations = declarations
        self.switch = switch
        self.state = {"lib": None, "checked": False}

    def library(self):
        state = self.state
        if not state["checked"]:
            state["checked"] = True
            if eager_allowed(self.switch):
                state["lib"] = load_kernels(self.source, self.declarations)
        return state["lib"]


def _warn_once(reason):
    if not _STATE["warned"]:
        _STATE["warned"] = True
        warnings.warn(f"ember.compile: fused C kernels are unavailable ({reason}); running the NumPy executor instead",
                      RuntimeWarning, stacklevel=4)


def load_kernels(source: str, declarations: str):
    """The cffi library of ``source`` (functions declared in ``declarations``), compiled once and cached on disk;
    ``None`` (with one warning per process) when no compiler or cffi is available or compiling fails."""
    loaded = _LOADED.get((source, declarations))
    if loaded is not None:
        return loaded
    _check_toolchain()
    if _STATE["compiler"] is None:
        _warn_once(_STATE["reason"])
        return None
    flags = _BASE_FLAGS + (["-fopenmp"] if _STATE["openmp"] else [])
    header = "#include <math.h>\n#include <stdint.h>\n" + ("#include <omp.h>\n" if _STATE["openmp"] else "")
    full_source = header + source
    digest = hashlib.sha256("\0".join([full_source, " ".join(flags), _cpu_tag(), sys.platform]).encode()).hexdigest()[:24]
    with _LOCK:
        lib = _LOADED.get(digest)
        if lib is not None:
            return lib
        directory = cache_dir()
        path = os.path.join(directory, f"ember_{digest}.so")
        if not os.path.exists(path):
            error = _compile(full_source, flags, directory, path)
            if error is not None:
                _warn_once(error)
                return None
        ffi = _STATE["ffi"]
        try:
            ffi.cdef(declarations, override=True)
        except Exception as error:  # a malformed declaration is a bug in the caller's generated code
            raise RuntimeError(f"ember.compile: bad kernel declarations ({error}):\n{declarations}") from None
        lib = ffi.dlopen(path)
        _LOADED[digest] = _LOADED[(source, declarations)] = lib
        return lib


def _compile(source, flags, directory, path):
    """Compile into a temporary file and rename it into place (atomic: concurrent processes may race)."""
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as error:
        return f"cannot create the kernel cache {directory}: {error}"
    with tempfile.TemporaryDirectory(prefix="ember-kernel-") as scratch:
        c_file = os.path.join(scratch, "kernel.c")
        with open(c_file, "w") as handle:
            handle.write(source)
        temporary = os.path.join(scratch, "kernel.so")
        done = subprocess.run([_STATE["compiler"], *flags, c_file, "-o", temporary, "-lm"], capture_output=True, text=True)
        if done.returncode != 0:
            return f"the C compiler failed: {done.stderr.strip()[-500:]}"
        fd, staged = tempfile.mkstemp(dir=directory, suffix=".so.tmp")
        os.close(fd)
        shutil.copyfile(temporary, staged)
        os.replace(staged, path)
    return None


def null_pointer():
    """C's NULL, for an optional array argument a kernel does not get."""
    return _STATE["ffi"].NULL


def pointer(array, ctype: str = "float[]"):
    """A C pointer to the first element of a C-contiguous NumPy ``array`` (no copy; keep the array alive)."""
    return _STATE["ffi"].from_buffer(ctype, array)
