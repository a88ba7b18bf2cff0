"""Runs every entry of the op test table (tests/ops/table_*.py) against PyTorch."""

from __future__ import annotations

import importlib
import pathlib

import pytest

from ember import flags
from ember import execution_hook
from ember.ops import registry
from tests.ops.harness import run_ember_sample, run_error, run_gradcheck, run_sample

TABLE_MODULES = sorted(p.stem for p in pathlib.Path(__file__).parent.glob("table_*.py"))
if flags.OP_TABLES.value():  # e.g. EMBER_OP_TABLES=table_reduce,table_products while developing
    TABLE_MODULES = [m for m in TABLE_MODULES if m in flags.OP_TABLES.value().split(",")]
OPS = []
for _name in TABLE_MODULES:
    OPS.extend(importlib.import_module(f"tests.ops.{_name}").OPS)

FORWARD_CASES = [(info, sample, dtype) for info in OPS for sample in info.samples for dtype in info.dtypes
                 if dtype not in info.skip]
GRADCHECK_CASES = [(info, sample) for info in OPS if info.grad and info.gradcheck and info.compare
                   for sample in info.samples]
GRADGRAD_CASES = [(info, sample) for info in OPS if info.gradgradcheck for sample in info.samples[:2]]
ERROR_CASES = [(info, err) for info in OPS for err in info.errors]


def _id(case):
    return "-".join(str(c) for c in case)


@pytest.mark.parametrize("info,sample,dtype", FORWARD_CASES, ids=[_id(c) for c in FORWARD_CASES])
def test_matches_torch(info, sample, dtype):
    run_sample(info, sample, dtype)


@pytest.mark.parametrize("info,sample", GRADCHECK_CASES, ids=[_id(c) for c in GRADCHECK_CASES])
def test_gradcheck(info, sample):
    run_gradcheck(info, sample, second_order=False)


@pytest.mark.parametrize("info,sample", GRADGRAD_CASES, ids=[_id(c) for c in GRADGRAD_CASES])
def test_gradgradcheck(info, sample):
    run_gradcheck(info, sample, second_order=True)


@pytest.mark.parametrize("info,err", ERROR_CASES, ids=[_id(c) for c in ERROR_CASES])
def test_error_inputs(info, err):
    run_error(info, err)


def test_every_op_name_is_unique():
    names = [info.name + str(getattr(info, "variant", "")) for info in OPS]
    duplicates = {n for n in names if names.count(n) > 1}
    assert not duplicates, f"duplicate op table entries: {duplicates}"


class _OpsRun(execution_hook.Hook):
    """The execution hook while the entries run: notes the name of every op that runs."""

    def __init__(self):
        self.names = set()

    def call_op(self, op, args, attrs, run):
        self.names.add(op.name)
        return run(op, args, attrs)

    def call_inplace(self, op, target, args, attrs, run):
        self.names.add(op.name)
        return run(op, target, args, attrs)


def test_every_registered_op_has_a_table_entry():
    """Adding an op is its definition plus its entry here: every registered op must run (forward or backward) in
    some entry's samples, so an op without an entry fails this test."""
    if flags.OP_TABLES.value():
        pytest.skip("EMBER_OP_TABLES runs only some of the tables")
    ops_run = _OpsRun()
    with execution_hook.installed(ops_run):
        for info in OPS:
            dtype = info.dtypes[0]
            for i, sample in enumerate(info.samples):
                run_ember_sample(info, sample, dtype, second_order=info.gradgradcheck and i < 2)
    missing = sorted(set(registry.REGISTRY) - ops_run.names)
    assert not missing, f"registered ops that no op-table entry runs (add an entry in tests/ops/table_*.py): {missing}"
