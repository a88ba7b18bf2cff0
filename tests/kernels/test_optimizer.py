"""Fused optimizer updates (ember/kernels/optimizer.py): the same bits as the NumPy update of SGD/Adam/AdamW."""

import numpy as np
import pytest

import ember
from ember.kernels import loader as kernels, optimizer as fused_optimizer
from ember.optim import optimizer as optimizer_module

needs_compiler = pytest.mark.skipif(not kernels.available(), reason="no C compiler or cffi")


def _params(seed, shapes=((5, 3), (3,), (70000,))):
    rng = np.random.default_rng(seed)
    return [ember.nn.Parameter(ember.from_numpy(rng.standard_normal(s).astype(np.float32))) for s in shapes]


OPTIMIZERS = [
    ("sgd", lambda ps: ember.optim.SGD(ps, lr=0.05)),
    ("sgd_wd", lambda ps: ember.optim.SGD(ps, lr=0.05, weight_decay=0.1)),
    ("momentum", lambda ps: ember.optim.SGD(ps, lr=0.01, momentum=0.9)),
    ("momentum_damp_wd", lambda ps: ember.optim.SGD(ps, lr=0.01, momentum=0.9, dampening=0.2, weight_decay=1e-3)),
    ("nesterov", lambda ps: ember.optim.SGD(ps, lr=0.01, momentum=0.8, nesterov=True)),
    ("adam", lambda ps: ember.optim.Adam(ps, lr=1e-2)),
    ("adam_wd", lambda ps: ember.optim.Adam(ps, lr=1e-2, weight_decay=0.05)),
    ("adam_big_beta1_weight", lambda ps: ember.optim.Adam(ps, lr=1e-2, betas=(0.3, 0.9))),
    ("adamw", lambda ps: ember.optim.AdamW(ps, lr=3e-3, weight_decay=0.1)),
]


@needs_compiler
@pytest.mark.parametrize("name,make", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_fused_update_equals_eager_bitwise(name, make, monkeypatch):
    monkeypatch.setitem(optimizer_module._FUSED, "enabled", False)  # eager.step() runs the NumPy update
    eager_params, fused_params = _params(0), _params(0)
    eager, fused = make(eager_params), make(fused_params)
    assert fused_optimizer.supported(fused)

    def step():
        if not fused_optimizer.fused_update(fused):  # the first step creates the state in NumPy
            fused.step()
    rng = np.random.default_rng(1)
    for _ in range(4):
        for a, b in zip(eager_params, fused_params):
            g = rng.standard_normal(a.shape).astype(np.float32)
            a.grad, b.grad = ember.from_numpy(g.copy()), ember.from_numpy(g.copy())
        eager.step()
        step()
        for a, b in zip(eager_params, fused_params):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    for a, b in zip(eager_params, fused_params):
        for key, value in eager.state[a].items():
            np.testing.assert_array_equal(value.numpy(), fused.state[b][key].numpy())


def test_unsupported_options_are_not_fused():
    p = [ember.nn.Parameter(ember.ones(2))]
    assert not fused_optimizer.supported(ember.optim.Adam(p, amsgrad=True))
    assert not fused_optimizer.supported(ember.optim.SGD(p, lr=0.1, maximize=True))
    assert not fused_optimizer.supported(ember.optim.RMSprop(p))


@needs_compiler
def test_float64_parameters_run_the_eager_step():
    p = ember.nn.Parameter(ember.ones(3, dtype=ember.float64))
    q = ember.nn.Parameter(ember.ones(3, dtype=ember.float64))
    a, b = ember.optim.Adam([p], lr=0.1), ember.optim.Adam([q], lr=0.1)
    for _ in range(3):
        p.grad = ember.full((3,), 0.5, dtype=ember.float64)
        q.grad = ember.full((3,), 0.5, dtype=ember.float64)
        a.step()
        if not fused_optimizer.fused_update(b):
            b.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_the_kernel_is_the_one_the_class_itself_declares():
    class ScaledSGD(ember.optim.SGD):  # may change what step() computes: runs its own NumPy update
        pass

    p = [ember.nn.Parameter(ember.ones(2))]
    assert fused_optimizer.supported(ember.optim.SGD(p, lr=0.1))
    assert fused_optimizer.supported(ember.optim.AdamW(p))
    assert not fused_optimizer.supported(ScaledSGD(p, lr=0.1))
