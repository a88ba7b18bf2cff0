"""Eager SGD/Adam/AdamW take the fused C update when the `compile` extra is present: same bits as NumPy's."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.kernels import loader as kernels
from ember.optim import optimizer as optimizer_module

pytestmark = pytest.mark.skipif(not kernels.available(), reason="no C compiler or cffi (the `compile` extra)")


def run(make, fused, monkeypatch):
    if not fused:
        monkeypatch.setitem(optimizer_module._FUSED, "enabled", False)
    rng = np.random.RandomState(0)
    params = [ember.nn.Parameter(ember.tensor(rng.randn(37, 11).astype(np.float32))),
              ember.nn.Parameter(ember.tensor(rng.randn(5).astype(np.float32)))]
    opt = make(params)
    calls = []
    for step in range(4):
        for p in params:
            p.grad = ember.tensor(rng.randn(*p.shape).astype(np.float32))
        opt.step()
        calls.append([p.detach().numpy().copy() for p in params])
    monkeypatch.undo()
    return calls, opt


@pytest.mark.parametrize("make", [
    lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
    lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.5, dampening=0.3),
    lambda ps: ember.optim.SGD(ps, lr=0.1),
    lambda ps: ember.optim.Adam(ps, lr=1e-2, weight_decay=1e-2),
    lambda ps: ember.optim.AdamW(ps, lr=1e-2, betas=(0.8, 0.95), weight_decay=0.1),
], ids=["sgd-nesterov-wd", "sgd-dampening", "sgd-plain", "adam-wd", "adamw"])
def test_fused_update_gives_the_numpy_bits(make, monkeypatch):
    fused, fused_opt = run(make, True, monkeypatch)
    plain, plain_opt = run(make, False, monkeypatch)
    for fused_step, plain_step in zip(fused, plain):
        for a, b in zip(fused_step, plain_step):
            np.testing.assert_array_equal(a, b)
    for pf, pp in zip(fused_opt.state.values(), plain_opt.state.values()):
        for key in pp:
            np.testing.assert_array_equal(np.asarray(pf[key].numpy() if hasattr(pf[key], "numpy") else pf[key]),
                                          np.asarray(pp[key].numpy() if hasattr(pp[key], "numpy") else pp[key]))


def test_fused_path_is_taken_after_the_first_step():
    w = ember.nn.Parameter(ember.ones(8))
    opt = ember.optim.Adam([w], lr=0.1)
    w.grad = ember.ones(8)
    assert optimizer_module._fused_update(opt) is False  # no state yet: the NumPy step creates it
    opt.step()
    w.grad = ember.ones(8)
    assert optimizer_module._fused_update(opt) is True
