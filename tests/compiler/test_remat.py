"""Rematerialization in a compiled step (ember/compiler/passes/remat.py): values recomputed in backward
instead of kept from forward must give eager mode's numbers."""

import numpy as np
import pytest

import ember
from ember.compiler import executor
from ember.compiler.graph import RecomputeNode, RecomputeProbabilitiesNode
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
    # the GELU output and both layer_norm outputs, each saved by the Linear that reads it
    assert "remat: 3 saved values recomputed in backward, 0 attention probabilities" in run.last_entry.pass_log


def test_consumers_keep_no_recomputable_input_between_forward_and_backward(monkeypatch):
    seen = []
    original = executor.STEP_BUILDERS[RecomputeNode]

    def recording(node, replay, index):
        restore = original(node, replay, index)

        def step(env):
            ctx = env[node.consumer.ctx_slot]
            seen.append(ctx.saved_inputs[node.position])
            restore(env)
            seen.append(ctx.saved_inputs[node.position].shape)
        return step

    monkeypatch.setitem(executor.STEP_BUILDERS, RecomputeNode, recording)
    _train(True, steps=3)
    # two replays (the first call captures eagerly), in backward order: ln2 -> Linear, gelu -> Linear, ln1 -> Linear
    assert seen == [None, (32, 16), None, (32, 64), None, (32, 16)] * 2


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
    from ember.compiler.passes import recompute_saved_inputs
    layer = ember.nn.Linear(4, 4)

    def step(x):
        loss = layer(ember.nn.functional.gelu(x, approximate=approximate)).sum()
        loss.backward()
        return loss

    graph = capture(step, (ember.ones(2, 4, requires_grad=True),), {}).graph
    assert recompute_saved_inputs(graph) == (graph, 0)


def test_scaled_product_keeps_no_copy_of_its_tensor_operand_compiled_or_eager():
    """``scores * scale`` (a Python number) keeps nothing of ``scores`` for backward (mul's keep_inputs)."""
    def build():
        ember.manual_seed(0)
        model = ember.nn.Sequential(ember.nn.Linear(16, 16), ember.nn.Tanh())
        return model, ember.optim.SGD(model.parameters(), lr=0.1)

    class Scaled(ember.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x) * 0.125 + self.inner(x * 2.0) * (x * 3.0)

    def build_scaled():
        model, opt = build()
        return Scaled(model), opt

    x = ember.randn(8, 16)
    target = ember.randn(8, 16)
    eager_losses, eager_params, _ = train(build_scaled, x, target, compiled=False)
    losses, params, _ = train(build_scaled, x, target, compiled=True)
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-6)
    for got, expected in zip(params, eager_params):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    scores = ember.randn(4, requires_grad=True) * 1.0
    scaled = scores * 0.5
    assert scaled.grad_fn.saved_inputs[0] is None  # nothing of scores kept: its gradient is grad * 0.5


def _attention_model():
    ember.manual_seed(0)
    qkv = ember.nn.Linear(16, 48)
    out = ember.nn.Linear(16, 4)
    mask = ember.triu(ember.ones(32, 32, dtype=ember.bool), diagonal=1)
    optimizer = ember.optim.AdamW([*qkv.parameters(), *out.parameters()], lr=1e-2)

    def step(x, target):
        batch, time, _ = x.shape
        q, k, v = qkv(x).reshape(batch, time, 3, 2, 8).permute(2, 0, 3, 1, 4)
        scores = (q @ k.transpose(-2, -1)) * (1 / 8 ** 0.5)
        scores = scores.masked_fill(mask[:time, :time], float("-inf"))
        y = (ember.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(batch, time, 16)
        loss = ((out(y) - target) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss
    return step, [qkv, out]


def _attention_run(compiled, steps=3):
    x = ember.from_numpy(np.random.default_rng(4).standard_normal((4, 32, 16)).astype(np.float32))
    target = ember.from_numpy(np.random.default_rng(5).standard_normal((4, 32, 4)).astype(np.float32))
    step, layers = _attention_model()
    run = ember.compile(step) if compiled else step
    losses = [float(run(x, target)) for _ in range(steps)]
    return losses, [p.detach().numpy().copy() for layer in layers for p in layer.parameters()], run


@pytest.mark.parametrize("recompute", [True, False])
def test_recomputed_attention_probabilities_train_like_eager(recompute, monkeypatch):
    monkeypatch.setattr(ember.compiler.config, "recompute_attention", recompute)
    eager_losses, eager_params, _ = _attention_run(False)
    losses, params, run = _attention_run(True)
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-6)
    for got, expected in zip(params, eager_params):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    assert f"{int(recompute)} attention probabilities" in " ".join(run.last_entry.pass_log)


def test_attention_probabilities_are_not_kept_between_forward_and_backward(monkeypatch):
    monkeypatch.setattr(ember.compiler.config, "recompute_attention", True)
    from ember.kernels import rowwise
    if not rowwise.enabled():
        pytest.skip("the fused scale/mask/softmax kernel (compile extra) is not available")
    kept = []
    original = executor.STEP_BUILDERS[RecomputeProbabilitiesNode]

    def recording(node, replay, index):
        restore = original(node, replay, index)
        ctx_slot = node.probabilities_matmul.ctx_slot

        def watch(env):
            kept.append(env[ctx_slot].saved_inputs[0])  # what the probabilities' matmul kept from forward
            restore(env)
        return watch

    monkeypatch.setitem(executor.STEP_BUILDERS, RecomputeProbabilitiesNode, recording)
    _attention_run(True, steps=3)
    assert len(kept) == 2 and kept == [None, None]  # two replays (the first call captures eagerly)
