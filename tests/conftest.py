"""Shared test setup: seeds, and the op-table summary line CI prints."""

from __future__ import annotations

import sys

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    import ember
    if hasattr(ember, "manual_seed"):
        ember.manual_seed(0)
    if "torch" in sys.modules:  # tests that draw their inputs with torch get the same ones every run
        sys.modules["torch"].manual_seed(0)
    yield


def pytest_terminal_summary(terminalreporter):
    try:
        from tests.ops.test_op_table import FORWARD_CASES, GRADCHECK_CASES, GRADGRAD_CASES, OPS, ERROR_CASES
    except Exception:
        return
    passed = {r.nodeid for r in terminalreporter.stats.get("passed", [])}
    ran = [n for n in passed if "test_op_table" in n]
    terminalreporter.write_line(
        f"op table: {len(OPS)} ops, {len(FORWARD_CASES)} sample/dtype checks against torch, "
        f"{len(GRADCHECK_CASES)} gradchecks, {len(GRADGRAD_CASES)} gradgradchecks, {len(ERROR_CASES)} error "
        f"inputs; {len(ran)} op-table tests passed in this run")
