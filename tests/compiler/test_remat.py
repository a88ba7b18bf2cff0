"""Rematerialization in a compiled step (ember/compiler/passes/remat.py): values recomputed in backward
instead of kept from forward must give eager mode's numbers."""

import numpy as np
import pytest

import ember
from ember.compiler import executor
from tests.compiler.training import train


def _build():
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.LayerNorm(16), ember.nn.Linear(16, 64), ember.nn.GELU(approximate="tanh"),
                                ember.nn.Linear(64, 16), ember.nn.LayerNorm(16), ember.nn.Linear(16, 4))
    return model, ember.optim.AdamW(model.parameters(), lr=1e-2)


def _train(compiled, steps=4):
    x = ember.from_numpy(np.random.default_rng(1).standard_normal((32, 16)).astype(np.float32))
    target = ember.from_numpy(np.random.default_rng(2).standard_normal((32, 4)).astype(np.float32))
    return train(_build, x, target, compiled, steps)


def test_rematerialized_step_equals_eager():
    eager_losses, eager_params, _ = _train(False)
    losses, params, run = _train(True)
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-6)
    for got, expected in zip(params, eager_params):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    assert "remat: 1 saved values recomputed in backward" in run.last_entry.pass_log


def test_consumer_keeps_no_gelu_output_between_forward_and_backward(monkeypatch):
    seen = []
    original = executor._restore_dropped

    def recording(ctx, env, recompute, graph, consumer):
        seen.append(ctx.saved_inputs[recompute[0]])
        original(ctx, env, recompute, graph, consumer)
        seen.append(ctx.saved_inputs[recompute[0]].shape)

    monkeypatch.setattr(executor, "_restore_dropped", recording)
    _train(True, steps=3)
    assert seen == [None, (32, 64)] * 2  # two replays; the first call captures eagerly


def test_layer_norm_restores_its_normalized_rows_bit_for_bit():
    from ember.ops.registry import REGISTRY
    layer_norm = REGISTRY["layer_norm"].cls

    class Ctx:
        pass

    x = ember.from_numpy(np.random.default_rng(3).standard_normal((8, 5)).astype(np.float32))
    ctx = Ctx()
    layer_norm.forward(ctx, x.numpy(), None, None, 1, 1e-5)  # whichever path eager takes here (C kernel or NumPy)
    ctx.inputs = (x, None, None)
    expected = ctx.xhat.copy()
    layer_norm.release_saved(ctx)
    assert ctx.xhat is None
    layer_norm.restore_saved(ctx)
    np.testing.assert_array_equal(ctx.xhat, expected)


@pytest.mark.parametrize("approximate", ["none"])
def test_exact_gelu_is_not_rematerialized(approximate):
    from ember.compiler.capture import capture
    from ember.compiler.passes import recomputed_inputs
    layer = ember.nn.Linear(4, 4)

    def step(x):
        loss = layer(ember.nn.functional.gelu(x, approximate=approximate)).sum()
        loss.backward()
        return loss

    graph = capture(step, (ember.ones(2, 4, requires_grad=True),), {}).graph
    assert recomputed_inputs(graph) == {}
