"""The kernel loader (ember/kernels/loader.py): disk cache, the NumPy fallback with one warning, and the layout it
loads: one C file per family with its declarations in a header, no C in Python strings, shipped in the wheel."""

import fnmatch
import pathlib
import re
import warnings

import numpy as np
import pytest

import ember
from ember.kernels import loader as kernels, optimizer as fused_optimizer

needs_compiler = pytest.mark.skipif(not kernels.available(), reason="no C compiler or cffi")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_CACHE_DIR", str(tmp_path))
    return tmp_path


@needs_compiler
def test_kernel_cached_on_disk_by_source(cache):
    source = "void add_one_xyz(float* x, long n) { for (long i = 0; i < n; i++) x[i] += 1; }"
    lib = kernels.load_kernels(source, "void add_one_xyz(float* x, long n);")
    files = list(cache.glob("*.so"))
    assert len(files) == 1
    x = np.zeros(4, np.float32)
    lib.add_one_xyz(kernels.pointer(x), x.size)
    assert x.tolist() == [1, 1, 1, 1]
    assert kernels.load_kernels(source, "void add_one_xyz(float* x, long n);") is lib
    assert len(list(cache.glob("*.so"))) == 1


def test_no_compiler_falls_back_with_one_warning(monkeypatch):
    monkeypatch.setitem(kernels._STATE, "checked", True)
    monkeypatch.setitem(kernels._STATE, "compiler", None)
    monkeypatch.setitem(kernels._STATE, "reason", "no C compiler found")
    monkeypatch.setitem(kernels._STATE, "warned", False)
    monkeypatch.setattr(kernels, "_LOADED", {})  # nothing compiled earlier in this process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert kernels.load_kernels("void f(void) {}", "void f(void);") is None
        assert kernels.load_kernels("void g(void) {}", "void g(void);") is None
    assert len(caught) == 1 and "no C compiler" in str(caught[0].message)
    opt = ember.optim.SGD([ember.nn.Parameter(ember.ones(2))], lr=0.1)
    assert fused_optimizer.fused_update(opt) is False


def test_a_cc_that_is_not_a_program_means_no_compiler(monkeypatch):
    for key, value in (("checked", False), ("compiler", None), ("reason", None), ("ffi", None)):
        monkeypatch.setitem(kernels._STATE, key, value)
    monkeypatch.setenv("CC", "/nonexistent/cc")
    assert not kernels.available()
    assert kernels._STATE["reason"] == "CC='/nonexistent/cc' is not a program on PATH"


KERNELS_DIR = pathlib.Path(kernels.KERNELS_DIR)
# A family is a C file with its declarations beside it (not the fusion template, not the OpenMP probe).
FAMILIES = sorted(path.stem for path in KERNELS_DIR.glob("*.c") if path.with_suffix(".h").exists() and path.stem != "fused_group")
REPO_ROOT = KERNELS_DIR.parent.parent


@needs_compiler
@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_builds_from_its_c_file_and_has_what_its_header_declares(family):
    lib = kernels.load_library(family)
    declared = re.findall(r"(\w+)\(", kernels.read_source(family + ".h"))
    assert declared and all(hasattr(lib, name) for name in declared)
    assert kernels.load_library(family) is lib  # loaded once per process


def test_the_cache_key_covers_the_headers_a_kernel_includes():
    headers = kernels._included_headers(kernels.read_source("rowwise.c"))
    assert headers == [kernels.read_source("ember_kernels.h"), kernels.read_source("rowwise.h")]


def test_no_python_module_holds_c_source():
    c_source = re.compile(r"#include|static inline|\bvoid\s+\w+\s*\(")
    holders = [str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / "ember").rglob("*.py")
               if c_source.search(path.read_text())]
    assert holders == [], f"C source belongs in ember/kernels/*.c: {holders}"


def test_eager_code_takes_kernels_from_ember_kernels_not_the_compiler():
    importers = [str(path.relative_to(REPO_ROOT)) for folder in ("ops", "optim", "nn")
                 for path in (REPO_ROOT / "ember" / folder).rglob("*.py") if "ember.compiler" in path.read_text()]
    assert importers == []


def test_the_wheel_ships_every_kernel_source():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    package_data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = package_data["ember.kernels"]
    sources = [path.name for path in KERNELS_DIR.iterdir() if path.suffix in (".c", ".h")]
    assert sources and all(any(fnmatch.fnmatch(name, pattern) for pattern in patterns) for name in sources)
