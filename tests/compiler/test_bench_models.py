"""Every benchmark model (bench/models.py, at --quick size) trained or run under ember.compile gives eager
mode's numbers step after step: losses, parameters, buffers and optimizer state."""

import numpy as np
import pytest

import ember
from bench.workloads import MODEL_WORKLOADS, build_step

STEPS = 3


def _run(workload, compiled):
    ember.manual_seed(0)
    prepared = build_step(ember, workload, True, None)
    run = ember.compile(prepared.step, fullgraph=True) if compiled else prepared.step
    values = [run().detach().numpy().copy() for _ in range(STEPS)]
    state = {name: value.detach().numpy().copy() for name, value in prepared.model.state_dict().items()}
    moments = [] if prepared.optimizer is None else [
        np.asarray(value._data).copy() for entry in prepared.optimizer.state_dict()["state"].values()
        for value in entry.values() if hasattr(value, "_data")]
    return values, state, moments


@pytest.mark.parametrize("name", sorted(MODEL_WORKLOADS))
def test_compiled_benchmark_model_equals_eager(name):
    workload = MODEL_WORKLOADS[name]
    eager_values, eager_state, eager_moments = _run(workload, compiled=False)
    values, state, moments = _run(workload, compiled=True)
    for got, expected in zip(values, eager_values):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    for key, expected in eager_state.items():
        np.testing.assert_allclose(state[key], expected, rtol=1e-5, atol=1e-6, err_msg=key)
    assert len(moments) == len(eager_moments)
    for got, expected in zip(moments, eager_moments):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_traced_step_memory_counts_the_step_and_what_it_keeps():
    import tracemalloc

    from bench.compiled import traced_memory
    results = {}
    for mode in ("eager", "compiled"):
        tracemalloc.start()
        ember.manual_seed(0)
        prepared = build_step(ember, MODEL_WORKLOADS["mlp"], True, None)
        step = ember.compile(prepared.step) if mode == "compiled" else prepared.step
        results[mode] = traced_memory(step, warmup=1, steps=2)
        assert not tracemalloc.is_tracing()
    parameters = sum(p.numel() for p in prepared.model.parameters()) * 4 / 2**20
    for mode, result in results.items():
        # SGD with momentum keeps a gradient and a momentum buffer per parameter between steps; a step's
        # activations come on top; the MLP's are small (batch 128)
        assert 2 * parameters < result["traced_held_mb"] < result["traced_step_mb"] < 4 * parameters, (mode, result)
