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


def test_compiled_note_measures_compiling_against_eager_first_call_and_traced_memory():
    from bench.compiled import MODES, compiled_note
    from bench.run import Measurement
    columns = {column: Measurement(times=[0.5, 0.5]) for column in MODES}
    first_calls = {("ember", "compiled"): [2.0, 0.8, 0.9], ("ember", "cold"): [2.0], ("ember", "eager"): [0.7, 0.7],
                   ("torch", "compiled"): [9.0]}
    traced = {"compiled": {"traced_step_mb": 70.0, "traced_held_mb": 50.0},
              "eager": {"traced_step_mb": 100.0, "traced_held_mb": 40.0}}
    note = compiled_note(columns, first_calls, {("ember", "compiled"): [80.0], ("ember", "eager"): [90.0]}, traced)
    assert "compiling adds (first call compiled - first call eager 0.70 s): 1.30 s with an empty kernel cache" in note
    assert "0.15 s from the disk cache (target <= 0.3 s)" in note
    assert "Ember compiled 70.0 MB vs eager 100.0 MB, 0.70x (target <= 0.8x, met)" in note
    assert "as RSS" in note and "0.89x" in note


@pytest.mark.parametrize("name", ["mlp", "gpt", "lstm"])
def test_gemm_floor_lists_every_linear_layer_of_the_model(name):
    from bench.gemm_floor import workload_gemms
    gemms = workload_gemms(name)
    forward = [(k, n) for what, _, _, k, n in gemms if what == "x @ W^T"]
    model = build_step(ember, MODEL_WORKLOADS[name], False, None).model
    linears = [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, ember.nn.Linear)]
    assert sorted(forward) == sorted(linears)
    with pytest.raises(ValueError, match="no matrix-product list"):
        workload_gemms("resnet18")
