"""Docs cannot drift: every ```python block in README.md, CONTRIBUTING.md and docs/*.md runs, and generated pages
are current."""

from __future__ import annotations

import glob
import os
import re
import runpy
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = [os.path.join(ROOT, "README.md"), os.path.join(ROOT, "CONTRIBUTING.md"),
         *sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks():
    for page in PAGES:
        with open(page) as f:
            text = f.read()
        for i, match in enumerate(BLOCK.finditer(text)):
            line = text[:match.start()].count("\n") + 2
            yield pytest.param(match.group(1), id=f"{os.path.relpath(page, ROOT)}:{line}")


@pytest.mark.parametrize("code", list(_blocks()))
def test_doc_example_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(ROOT)  # CONTRIBUTING's example uses the op-table harness (tests/ops)
    script = tmp_path / "example.py"
    script.write_text(code)
    runpy.run_path(str(script), run_name="__main__")


def test_torch_coverage_page_is_current():
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        import torch_coverage
    finally:
        sys.path.pop(0)
    with open(torch_coverage.OUTPUT) as f:
        committed = f.read()
    assert committed == torch_coverage.build_table(), \
        "docs/torch_coverage.md is out of date: run `python tools/torch_coverage.py` and commit the result"
