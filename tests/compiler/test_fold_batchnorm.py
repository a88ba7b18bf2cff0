"""Evaluation-mode batch norm folded into the convolution before it (passes/fold_batchnorm.py)."""

import numpy as np
import pytest

import ember


def _block(seed=0):
    ember.manual_seed(seed)
    block = ember.nn.Sequential(ember.nn.Conv2d(3, 6, 3, padding=1), ember.nn.BatchNorm2d(6), ember.nn.ReLU(),
                                ember.nn.Conv2d(6, 4, 3, stride=2, bias=False), ember.nn.BatchNorm2d(4, affine=False))
    for norm in (block[1], block[4]):
        norm.running_mean.copy_(ember.randn(norm.num_features) * 0.5)
        norm.running_var.copy_(ember.rand(norm.num_features) + 0.5)
    with ember.no_grad():
        block[1].weight.copy_(ember.randn(6))
        block[1].bias.copy_(ember.randn(6))
    return block.eval()


def _infer(block):
    def infer(x):
        with ember.no_grad():
            return block(x)
    return infer


def test_folded_inference_equals_eager_and_follows_changes():
    block = _block()
    infer = _infer(block)
    compiled = ember.compile(infer)
    x = ember.randn(2, 3, 9, 9)
    compiled(x)
    np.testing.assert_allclose(compiled(x).numpy(), infer(x).numpy(), rtol=1e-5, atol=1e-5)
    assert "fold: 2 batch norms folded into convolutions" in compiled.last_entry.pass_log
    # parameters and running statistics changed in place are folded again before the next call
    with ember.no_grad():
        block[0].weight.mul_(-1.5)
        block[1].bias.add_(2.0)
    block[4].running_var.mul_(3.0)
    block.load_state_dict({k: v * 1.1 if k.endswith("running_mean") else v for k, v in block.state_dict().items()})
    np.testing.assert_allclose(compiled(x).numpy(), infer(x).numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["train", "grad"])
def test_training_or_recorded_graphs_are_not_folded(mode):
    block = _block()
    if mode == "train":
        block.train()

        def run(x):
            return block(x).sum()
    else:
        def run(x):
            return block(x).sum()
    compiled = ember.compile(run)
    x = ember.randn(2, 3, 9, 9)
    compiled(x)
    assert "fold: 0 batch norms folded into convolutions" in compiled.last_entry.pass_log


def test_a_convolution_read_elsewhere_is_not_folded():
    block = _block()

    def infer(x):
        with ember.no_grad():
            features = block[0](x)
            return block[1](features) + features

    compiled = ember.compile(infer)
    x = ember.randn(1, 3, 9, 9)
    compiled(x)
    np.testing.assert_allclose(compiled(x).numpy(), infer(x).numpy(), rtol=1e-6, atol=1e-6)
    assert "fold: 0 batch norms folded into convolutions" in compiled.last_entry.pass_log
