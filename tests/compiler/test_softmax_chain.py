"""Scale/mask/softmax chains (passes/softmax_chain.py) run as one C pass forward and one backward, with
eager mode's numbers."""

import numpy as np
import pytest

import ember
from ember.compiler.graph import SoftmaxChainNode


def _attention_step(mask, scale, masked, train=True):
    ember.manual_seed(0)
    qk = ember.nn.Linear(8, 16)
    optimizer = ember.optim.SGD(qk.parameters(), lr=0.1)

    def step(x):
        q, k = qk(x).reshape(2, 2, 5, 8).unbind(1)  # (batch, time, dim) twice
        scores = q @ k.transpose(-2, -1)
        if scale:
            scores = scores * 0.35
        if masked:
            scores = scores.masked_fill(mask, float("-inf"))
        probabilities = ember.softmax(scores, dim=-1)
        loss = (probabilities * ember.arange(5.0)).sum()
        if train:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss
    return step, qk


@pytest.mark.parametrize("scale,masked", [(True, True), (True, False), (False, True)])
def test_fused_chain_trains_like_eager(scale, masked):
    mask = ember.triu(ember.ones(5, 5, dtype=ember.bool), diagonal=1)
    x = ember.randn(10, 8)
    runs = []
    for compiled in (False, True):
        step, layer = _attention_step(mask, scale, masked)
        run = ember.compile(step) if compiled else step
        losses = [float(run(x)) for _ in range(4)]
        runs.append((losses, layer.weight.detach().numpy().copy(), run))
    (eager_losses, eager_weight, _), (losses, weight, run) = runs
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-6)
    np.testing.assert_allclose(weight, eager_weight, rtol=1e-6, atol=1e-7)
    assert "1 scale/mask/softmax chains" in " ".join(run.last_entry.pass_log)


def test_a_mask_that_does_not_repeat_over_rows_runs_op_by_op():
    mask = ember.rand(2, 5, 5) > 0.5  # a different mask per batch entry: not one repeated block
    mask[..., 0] = False  # never a fully masked row
    x = ember.randn(10, 8)
    step, _ = _attention_step(mask, True, True, train=False)
    compiled = ember.compile(step)
    compiled(x)
    np.testing.assert_allclose(float(compiled(x)), float(step(x)), rtol=1e-6)


def test_inference_chain_without_backward():
    mask = ember.triu(ember.ones(5, 5, dtype=ember.bool), diagonal=1)
    x = ember.randn(10, 8)
    step, _ = _attention_step(mask, True, True, train=False)

    def infer(x):
        with ember.no_grad():
            return step(x)
    compiled = ember.compile(infer)
    compiled(x)
    np.testing.assert_allclose(float(compiled(x)), float(infer(x)), rtol=1e-6)
    assert "1 scale/mask/softmax chains" in " ".join(compiled.last_entry.pass_log)


def _sliced_mask_step():
    # GPT-style: the mask is sliced between the scale and the masked fill, so the members are not adjacent
    full_mask = ember.triu(ember.ones(8, 8, dtype=ember.bool), diagonal=1)
    ember.manual_seed(0)
    layer = ember.nn.Linear(8, 16)
    optimizer = ember.optim.SGD(layer.parameters(), lr=0.1)

    def step(x):
        q, k = layer(x).reshape(2, 2, 5, 8).unbind(1)
        scores = (q @ k.transpose(-2, -1)) * 0.35
        scores = scores.masked_fill(full_mask[:5, :5], float("-inf"))
        loss = (ember.softmax(scores, dim=-1) * ember.arange(5.0)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss
    return step, layer


def test_an_op_between_the_members_keeps_the_chain_whole():
    x = ember.randn(10, 8)
    runs = []
    for compiled in (False, True):
        step, layer = _sliced_mask_step()
        run = ember.compile(step) if compiled else step
        runs.append(([float(run(x)) for _ in range(3)], layer.weight.detach().numpy().copy(), run))
    (eager_losses, eager_weight, _), (losses, weight, run) = runs
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-6)
    np.testing.assert_allclose(weight, eager_weight, rtol=1e-6, atol=1e-7)
    assert "1 scale/mask/softmax chains" in " ".join(run.last_entry.pass_log)
    graph = run.last_entry.graph
    chain = next(node for node in graph.nodes if isinstance(node, SoftmaxChainNode))
    # the mask the chain reads is the slicing op's result, an op recorded between the scale and the masked fill
    between = next(node for node in graph.nodes if chain.mask_input in node.writes())
    assert chain.scale is not None and chain.mask is not None and between.kind == "op"


def test_a_scale_in_an_elementwise_group_and_a_chain_runs_once():
    def f(a, b):
        with ember.no_grad():
            return ember.softmax((a + b) * 0.5, dim=-1)

    a, b = ember.randn(4, 6), ember.randn(4, 6)
    compiled = ember.compile(f)
    for _ in range(3):
        np.testing.assert_allclose(compiled(a, b).numpy(), f(a, b).numpy(), rtol=1e-6, atol=1e-7)


def test_a_chain_with_ops_between_its_members_runs_op_by_op_when_the_kernel_does_not_fit():
    mask = ember.rand(2, 5, 5) > 0.5  # differs per batch entry: the fused kernel does not take it
    mask[..., 0] = False

    def f(x):
        scores = x * 0.5
        scores = scores.masked_fill(mask[:, :5, :5], float("-inf"))
        return ember.softmax(scores, dim=-1).sum(-1)

    x = ember.randn(2, 5, 5)
    compiled = ember.compile(f)
    for _ in range(2):
        np.testing.assert_allclose(compiled(x).numpy(), f(x).numpy(), rtol=1e-6)
