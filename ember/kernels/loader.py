"""The one loader of Ember's C kernels: compiled once with the system C compiler, cached on disk, called through cffi.

A kernel family is a C file in this folder (``rowwise.c``) with its declarations next to it (``rowwise.h``, the
prototypes cffi parses) and the helpers several families share in ``ember_kernels.h``. ``load_library("rowwise")``
returns the family's cffi library; :func:`load_kernels` does the same for C source made at run time (the
compiler's fusion loops, filled in from the ``fused_group.c`` template). Eager ops take a family through
:class:`EagerLibrary`, which also honours the family's opt-out switch.

The source is compiled into a shared library (``-O3``, OpenMP when ``-fopenmp`` works) cached on disk under
``$EMBER_CACHE_DIR`` (default ``~/.cache/ember/kernels``), named by a hash of the source, the headers it
includes from this folder, the flags, the compiler and the CPU (model and instruction-set flags), so a later
process loads it without compiling; its functions take NumPy arrays through :func:`pointer`. With no C compiler
or no cffi a load returns ``None`` and warns once; callers then run their NumPy code.

Floating-point contraction is off (``-ffp-contract=off``, no ``-ffast-math``), so a kernel that performs the
same float32 operations in the same order as the NumPy code gives the same bits; ``-fno-trapping-math`` only
lets the compiler turn selects (``a > b ? a : b``) into vector blends.

>>> import numpy as np
>>> lib = load_library("scatter_rows")  # out[indices[i]] += rows[i]
>>> indices, rows, out = np.array([1, 1]), np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)
>>> if lib is not None:
...     lib.ember_index_add_rows(pointer(indices, "int64_t[]"), pointer(rows), pointer(out), 2, 3)
... else:
...     np.add.at(out, indices, rows)
>>> out
array([[0., 0., 0.],
       [2., 2., 2.]], dtype=float32)
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings

from ember import flags

__all__ = ["load_library", "load_kernels", "read_source", "EagerLibrary", "pointer", "null_pointer", "ffi",
           "available", "eager_allowed", "cache_dir", "num_threads", "KERNELS_DIR"]

# Where the .c and .h files are (shipped as package data).
KERNELS_DIR = os.path.dirname(os.path.abspath(__file__))

_LOADED: dict = {}
_LOCK = threading.Lock()
_STATE = {"checked": False, "compiler": None, "openmp": False, "warned": False, "ffi": None, "reason": None}

_BASE_FLAGS = ["-O3", "-march=native", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", "-shared", "-fPIC", "-std=c99"]
_LOCAL_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def cache_dir() -> str:
    """Where compiled kernels are kept: ``$EMBER_CACHE_DIR`` or ``~/.cache/ember/kernels``.

    >>> cache_dir().endswith("kernels") or flags.CACHE_DIR.name in os.environ
    True
    """
    return os.path.expanduser(flags.CACHE_DIR.value())


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
    """What ``-march=native`` compiles for: the CPU's model and its instruction-set flags (two machines of one model
    name may differ in flags, and a kernel built for one may not run on the other), else the architecture."""
    found = {}
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                for field in ("model name", "flags"):
                    if line.startswith(field) and field not in found:
                        found[field] = line
                if len(found) == 2:
                    break
    except OSError:
        pass
    if found:
        return "".join(found.values())
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
    chosen = os.environ.get("CC")
    compiler = shutil.which(chosen) if chosen else shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        _STATE["reason"] = (f"CC={chosen!r} is not a program on PATH" if chosen else
                            "no C compiler found (set CC or install gcc)")
        return
    _STATE["compiler"] = compiler
    _STATE["ffi"] = cffi.FFI()
    with tempfile.TemporaryDirectory(prefix="ember-omp-") as scratch:
        probe = os.path.join(KERNELS_DIR, "openmp_probe.c")
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


def eager_allowed(switch: flags.Flag | None = None) -> bool:
    """Whether eager-mode ops may run fused C kernels: the ``compile`` extra works here (quietly checked: no
    warning without it), ``EMBER_FUSED_KERNELS`` is not ``0``, and neither is the op family's own ``switch``
    (``flags.FUSED_OPTIM``, ``flags.FUSED_RNN``, ``flags.FUSED_GELU`` ...).

    >>> isinstance(eager_allowed(flags.FUSED_GELU), bool)
    True
    """
    if not flags.FUSED_KERNELS.enabled() or (switch is not None and not switch.enabled()):
        return False
    return available()


@functools.lru_cache(maxsize=None)
def read_source(name: str) -> str:
    """The text of ``name`` (a ``.c``, ``.h`` or template file) in this folder.

    >>> "ember_dot" in read_source("ember_kernels.h")
    True
    """
    with open(os.path.join(KERNELS_DIR, name)) as handle:
        return handle.read()


def load_library(family: str):
    """The cffi library of kernel family ``family``: ``family.c`` compiled once and cached on disk, its functions
    declared by ``family.h``; ``None`` (with one warning per process) when no compiler or cffi is available.

    >>> lib = load_library("scatter_rows")
    >>> lib is None or hasattr(lib, "ember_index_add_rows")
    True
    """
    return load_kernels(read_source(family + ".c"), read_source(family + ".h"))


class EagerLibrary:
    """Kernel family ``family`` as eager-mode ops use it: compiled or loaded on first use when
    :func:`eager_allowed` (``switch`` is the family's opt-out variable), else None. ``state`` (``lib``,
    ``checked``) is the family module's cache; tests set ``state["lib"] = None`` to run the NumPy path.

    >>> lib = EagerLibrary("scatter_rows", flags.FUSED_INDEX).library()
    >>> lib is None or hasattr(lib, "ember_index_add_rows")
    True
    """

    def __init__(self, family: str, switch: flags.Flag):
        self.family = family
        self.switch = switch
        self.state = {"lib": None, "checked": False}

    def library(self):
        """The cffi library, or None (no toolchain, or the family is switched off)."""
        state = self.state
        if not state["checked"]:
            state["checked"] = True
            if eager_allowed(self.switch):
                state["lib"] = load_library(self.family)
        return state["lib"]

    def enabled(self) -> bool:
        """Whether the family's kernels run here (the ``compile`` extra works and the family is not switched off).

        >>> isinstance(EagerLibrary("im2col", flags.FUSED_CONV).enabled(), bool)
        True
        """
        return self.library() is not None


def _warn_once(reason):
    if not _STATE["warned"]:
        _STATE["warned"] = True
        warnings.warn(f"ember.compile: fused C kernels are unavailable ({reason}); running the NumPy executor instead",
                      RuntimeWarning, stacklevel=4)


def _included_headers(source: str) -> list:
    """The texts of the headers from this folder that ``source`` includes (in quotes), theirs included, once
    each: part of the cache key, so editing a header recompiles what uses it."""
    texts, seen, pending = [], set(), _LOCAL_INCLUDE.findall(source)
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        text = read_source(name)
        texts.append(text)
        pending.extend(_LOCAL_INCLUDE.findall(text))
    return texts


def load_kernels(source: str, declarations: str):
    """The cffi library of C ``source`` (functions declared in ``declarations``), compiled once and cached on disk;
    ``None`` (with one warning per process) when no compiler or cffi is available or compiling fails. ``source``
    may include this folder's headers (ember_kernels.h)."""
    loaded = _LOADED.get((source, declarations))
    if loaded is not None:
        return loaded
    _check_toolchain()
    if _STATE["compiler"] is None:
        _warn_once(_STATE["reason"])
        return None
    compile_flags = _BASE_FLAGS + (["-fopenmp"] if _STATE["openmp"] else [])
    key = "\0".join([source, *_included_headers(source), " ".join(compile_flags), _STATE["compiler"], _cpu_tag(),
                     sys.platform])
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    with _LOCK:
        lib = _LOADED.get(digest)
        if lib is not None:
            return lib
        directory = cache_dir()
        path = os.path.join(directory, f"ember_{digest}.so")
        if not os.path.exists(path):
            error = _compile(source, compile_flags, directory, path)
            if error is not None:
                _warn_once(error)
                return None
        ffi_ = _STATE["ffi"]
        try:
            ffi_.cdef(declarations, override=True)
        except Exception as error:  # a malformed declaration is a bug in the caller's generated code
            raise RuntimeError(f"ember.compile: bad kernel declarations ({error}):\n{declarations}") from None
        lib = ffi_.dlopen(path)
        _LOADED[digest] = _LOADED[(source, declarations)] = lib
        return lib


def _compile(source, compile_flags, directory, path):
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
        done = subprocess.run([_STATE["compiler"], *compile_flags, "-I", KERNELS_DIR, c_file, "-o", temporary, "-lm"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            return f"the C compiler failed: {done.stderr.strip()[-500:]}"
        fd, staged = tempfile.mkstemp(dir=directory, suffix=".so.tmp")
        os.close(fd)
        shutil.copyfile(temporary, staged)
        os.replace(staged, path)
    return None


def ffi():
    """The cffi ``FFI`` the libraries were loaded with (for casts), or None before any load.

    >>> f = ffi()
    >>> f is None or f.sizeof("float") == 4
    True
    """
    return _STATE["ffi"]


def null_pointer():
    """C's NULL, for an optional array argument a kernel does not get.

    >>> available() and null_pointer() == ffi().NULL or not available()
    True
    """
    return _STATE["ffi"].NULL


def pointer(array, ctype: str = "float[]"):
    """A C pointer to the first element of a C-contiguous NumPy ``array`` (no copy; keep the array alive).

    >>> import numpy as np
    >>> x = np.zeros(2, np.float32)
    >>> not available() or ffi().typeof(pointer(x)).cname == "float[]"
    True
    """
    return _STATE["ffi"].from_buffer(ctype, array)
