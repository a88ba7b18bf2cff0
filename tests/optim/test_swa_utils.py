"""Parity of ember.optim.swa_utils with torch.optim.swa_utils: AveragedModel (SWA/EMA, avg_fn, multi_avg_fn,
use_buffers), update_bn and SWALR."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.optim.lr_scheduler as torch_sched
import torch.optim.swa_utils as torch_swa

import ember
import ember.optim.lr_scheduler as ember_sched
import ember.optim.swa_utils as ember_swa
from tests.nn.parity import copy_torch_state

needs_batch_norm = pytest.mark.skipif(not hasattr(ember.nn, "BatchNorm1d"), reason="ember.nn.BatchNorm1d not written yet")


def _models(batch_norm=False):
    """The same small model in torch and ember (ember's weights copied from torch's)."""
    torch.manual_seed(0)
    pair = []
    for lib in (torch, ember):
        layers = [lib.nn.Linear(3, 4)] + ([lib.nn.BatchNorm1d(4)] if batch_norm else []) + [lib.nn.Linear(4, 2)]
        pair.append(lib.nn.Sequential(*layers))
    copy_torch_state(pair[1], pair[0])
    return pair


def _train_step(torch_model, ember_model, rng, batch_norm):
    """Give both models the same new parameter values (and, with BatchNorm, the same forward in train mode)."""
    with torch.no_grad():
        for p in torch_model.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    if batch_norm:
        x = rng.standard_normal((5, 3)).astype(np.float32)
        torch_model(torch.from_numpy(x))
        ember_model(ember.tensor(x))
    copy_torch_state(ember_model, torch_model)


def _assert_state_close(ember_module, torch_module, rtol, atol=0.0):
    torch_state, ember_state = torch_module.state_dict(), ember_module.state_dict()
    assert list(ember_state) == list(torch_state)
    for key, torch_value in torch_state.items():
        ember_value = ember_state[key]
        assert ember_value.dtype.__repr__().split(".")[-1] == str(torch_value.dtype).split(".")[-1], key
        if torch_value.dtype.is_floating_point:
            np.testing.assert_allclose(ember_value.numpy(), torch_value.numpy(), rtol=rtol, atol=atol, err_msg=key)
        else:
            np.testing.assert_array_equal(ember_value.numpy(), torch_value.numpy(), err_msg=key)


# id -> (AveragedModel kwargs factory(swa_module), rtol). The lerp-based multi_avg_fns are compared to 1 ulp:
# torch's CPU lerp kernel fuses the multiply-add (FMA).
AVERAGING = {
    "swa_default": (lambda m: {}, 0.0),
    "ema_avg_fn": (lambda m: {"avg_fn": m.get_ema_avg_fn(0.9)}, 0.0),
    "swa_avg_fn": (lambda m: {"avg_fn": m.get_swa_avg_fn()}, 0.0),
    "ema_multi_avg_fn": (lambda m: {"multi_avg_fn": m.get_ema_multi_avg_fn(0.8)}, 2.5e-7),
    "swa_multi_avg_fn": (lambda m: {"multi_avg_fn": m.get_swa_multi_avg_fn()}, 2.5e-7),
}


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("averaging", list(AVERAGING))
def test_averaged_model_matches_torch(averaging, use_buffers):
    batch_norm = hasattr(ember.nn, "BatchNorm1d")
    kwargs_factory, rtol = AVERAGING[averaging]
    torch_model, ember_model = _models(batch_norm)
    torch_avg = torch_swa.AveragedModel(torch_model, use_buffers=use_buffers, **kwargs_factory(torch_swa))
    ember_avg = ember_swa.AveragedModel(ember_model, use_buffers=use_buffers, **kwargs_factory(ember_swa))
    rng = np.random.default_rng(0)
    if averaging == "swa_multi_avg_fn" and use_buffers and batch_norm:
        # torch's foreach SWA update rejects the integer num_batches_tracked buffer on the second update.
        for model, averaged in ((torch_model, torch_avg), (ember_model, ember_avg)):
            averaged.update_parameters(model)
            with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
                averaged.update_parameters(model)
        return
    for _ in range(4):
        _train_step(torch_model, ember_model, rng, batch_norm)
        torch_avg.update_parameters(torch_model)
        ember_avg.update_parameters(ember_model)
        _assert_state_close(ember_avg, torch_avg, rtol=rtol, atol=1e-7 if batch_norm else 0.0)
    assert ember_avg.n_averaged.item() == 4 and ember_avg.n_averaged.dtype == ember.int64
    x = rng.standard_normal((2, 3)).astype(np.float32)
    torch_avg.eval(), ember_avg.eval()
    np.testing.assert_allclose(ember_avg(ember.tensor(x)).detach().numpy(), torch_avg(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_averaged_model_is_a_copy_and_loads_torch_state():
    torch_model, ember_model = _models()
    torch_avg, ember_avg = torch_swa.AveragedModel(torch_model), ember_swa.AveragedModel(ember_model)
    assert ember_avg.module is not ember_model
    assert ember_avg.module[0].weight is not ember_model[0].weight
    assert repr(ember_avg) == repr(torch_avg)
    torch_avg.update_parameters(torch_model)
    torch_avg.update_parameters(torch_model)
    copy_torch_state(ember_avg, torch_avg)
    assert ember_avg.n_averaged.item() == 2
    # Averaging never builds an autograd graph.
    ember_avg.update_parameters(ember_model)
    assert all(p.grad_fn is None and p.requires_grad for p in ember_avg.parameters())


def test_multi_avg_fn_gets_one_dtype_per_call():
    calls = {}
    for lib, swa in ((torch, torch_swa), (ember, ember_swa)):
        model = lib.nn.Module()
        model.a = lib.nn.Parameter(lib.ones(2, dtype=lib.float64))
        model.b = lib.nn.Parameter(lib.ones(3))
        model.c = lib.nn.Parameter(lib.ones(1, dtype=lib.float64))
        seen = []

        def record(averaged, current, n_averaged, seen=seen):
            seen.append((str(averaged[0].dtype).split(".")[-1], [tuple(t.shape) for t in averaged], int(n_averaged)))

        averaged_model = swa.AveragedModel(model, multi_avg_fn=record)
        for _ in range(3):
            averaged_model.update_parameters(model)
        calls[lib.__name__] = sorted(seen)
    assert calls["ember"] == calls["torch"]
    assert calls["ember"] == [("float32", [(3,)], 1), ("float32", [(3,)], 2),
                              ("float64", [(2,), (1,)], 1), ("float64", [(2,), (1,)], 2)]


def test_averaging_function_helpers():
    a, b = np.array([1.0, -2.0, 4.0], np.float32), np.array([3.0, 0.5, -1.0], np.float32)
    for torch_fn, ember_fn, n in [(torch_swa.get_ema_avg_fn(0.7), ember_swa.get_ema_avg_fn(0.7), 3),
                                  (torch_swa.get_swa_avg_fn(), ember_swa.get_swa_avg_fn(), 3)]:
        np.testing.assert_array_equal(ember_fn(ember.tensor(a), ember.tensor(b), n).numpy(),
                                      torch_fn(torch.from_numpy(a), torch.from_numpy(b), n).numpy())
    for torch_fn, ember_fn in [(torch_swa.get_ema_multi_avg_fn(0.7), ember_swa.get_ema_multi_avg_fn(0.7)),
                               (torch_swa.get_swa_multi_avg_fn(), ember_swa.get_swa_multi_avg_fn())]:
        torch_avg, ember_avg = [torch.from_numpy(a.copy())], [ember.tensor(a)]
        torch_fn(torch_avg, [torch.from_numpy(b)], torch.tensor(3))
        ember_fn(ember_avg, [ember.tensor(b)], ember.tensor(3))
        np.testing.assert_allclose(ember_avg[0].numpy(), torch_avg[0].numpy(), rtol=2.5e-7)
    # Integer tensors take the non-lerp branch of the EMA update.
    torch_int, ember_int = [torch.tensor([10, 20])], [ember.tensor([10, 20])]
    torch_swa.get_ema_multi_avg_fn(0.5)(torch_int, [torch.tensor([0, 5])], 1)
    ember_swa.get_ema_multi_avg_fn(0.5)(ember_int, [ember.tensor([0, 5])], 1)
    assert ember_int[0].tolist() == torch_int[0].tolist()
    for swa in (torch_swa, ember_swa):
        for factory in (swa.get_ema_avg_fn, swa.get_ema_multi_avg_fn):
            with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. Please provide a value in \[0,1\] range."):
                factory(1.5)
        with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn should be provided"):
            swa.AveragedModel((torch if swa is torch_swa else ember).nn.Linear(1, 1), avg_fn=swa.get_swa_avg_fn(),
                              multi_avg_fn=swa.get_swa_multi_avg_fn())


@needs_batch_norm
@pytest.mark.parametrize("start_in_eval", [False, True])
def test_update_bn_matches_torch(start_in_eval):
    torch_model, ember_model = _models(batch_norm=True)
    torch_model[1].momentum = 0.3
    ember_model[1].momentum = 0.3
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal((4, 3)).astype(np.float32) * (i + 1) + i for i in range(3)]
    torch_loader = [torch.from_numpy(batches[0]), (torch.from_numpy(batches[1]), torch.zeros(4)), [torch.from_numpy(batches[2])]]
    ember_loader = [ember.tensor(batches[0]), (ember.tensor(batches[1]), ember.zeros(4)), [ember.tensor(batches[2])]]
    if start_in_eval:
        torch_model.eval(), ember_model.eval()
    torch_swa.update_bn(torch_loader, torch_model)
    ember_swa.update_bn(ember_loader, ember_model)
    _assert_state_close(ember_model, torch_model, rtol=1e-5, atol=1e-6)
    assert ember_model[1].momentum == 0.3
    assert ember_model.training is (not start_in_eval) and ember_model[1].training is (not start_in_eval)
    assert ember_model[0].weight.grad is None


@needs_batch_norm
def test_update_bn_on_averaged_model_and_without_batch_norm():
    torch_model, ember_model = _models(batch_norm=True)
    torch_avg, ember_avg = torch_swa.AveragedModel(torch_model), ember_swa.AveragedModel(ember_model)
    torch_avg.update_parameters(torch_model), ember_avg.update_parameters(ember_model)
    x = np.random.default_rng(2).standard_normal((6, 3)).astype(np.float32)
    torch_swa.update_bn([torch.from_numpy(x)], torch_avg)
    ember_swa.update_bn([ember.tensor(x)], ember_avg)
    _assert_state_close(ember_avg, torch_avg, rtol=1e-5, atol=1e-6)
    plain = ember.nn.Linear(3, 1)
    ember_swa.update_bn([object()], plain)  # no BatchNorm: the loader is not even read


def _run_lr(pair, n_steps):
    (torch_opt, torch_s), (ember_opt, ember_s) = pair
    for i in range(n_steps + 1):
        for ember_lr, torch_lr in zip(ember_s.get_last_lr(), torch_s.get_last_lr()):
            assert math.isclose(ember_lr, torch_lr, rel_tol=1e-12), (i, ember_lr, torch_lr)
        assert [g["lr"] for g in ember_opt.param_groups] == pytest.approx([g["lr"] for g in torch_opt.param_groups],
                                                                         rel=1e-12)
        if i < n_steps:
            torch_opt.step(), ember_opt.step()
            torch_s.step(), ember_s.step()


def _optimizers():
    return [lib.optim.SGD([{"params": [lib.nn.Parameter(lib.zeros(1))], "lr": 0.2},
                           {"params": [lib.nn.Parameter(lib.zeros(1))], "lr": 0.1}], lr=0.1) for lib in (torch, ember)]


@pytest.mark.parametrize("anneal_epochs", [0, 1, 3])
@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_swalr_matches_torch(strategy, anneal_epochs):
    torch_opt, ember_opt = _optimizers()
    pair = [(torch_opt, torch_swa.SWALR(torch_opt, swa_lr=[0.05, 0.01], anneal_epochs=anneal_epochs,
                                        anneal_strategy=strategy)),
            (ember_opt, ember_swa.SWALR(ember_opt, swa_lr=[0.05, 0.01], anneal_epochs=anneal_epochs,
                                        anneal_strategy=strategy))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run_lr(pair, 6)
    torch_state, ember_state = pair[0][1].state_dict(), pair[1][1].state_dict()
    assert sorted(ember_state) == sorted(torch_state) and "anneal_func" not in ember_state
    restored = ember_swa.SWALR(ember_opt, swa_lr=0.5, anneal_strategy="cos" if strategy == "linear" else "linear")
    restored.load_state_dict(ember_state)
    assert restored._anneal_strategy == strategy and restored.anneal_func(0.5) == pair[1][1].anneal_func(0.5)


def test_swalr_after_cosine_schedule_matches_torch():
    """The usual SWA recipe: a cosine schedule, then SWALR from epoch 5 while averaging the model."""
    torch_opt, ember_opt = _optimizers()
    pairs = []
    for opt, sched, swa in ((torch_opt, torch_sched, torch_swa), (ember_opt, ember_sched, ember_swa)):
        pairs.append((sched.CosineAnnealingLR(opt, T_max=10), swa.SWALR(opt, swa_lr=0.03, anneal_epochs=3)))
    for epoch in range(10):
        torch_opt.step(), ember_opt.step()
        for (cosine, swalr) in pairs:
            (swalr if epoch >= 5 else cosine).step()
        assert [g["lr"] for g in ember_opt.param_groups] == pytest.approx([g["lr"] for g in torch_opt.param_groups],
                                                                         rel=1e-12), epoch


def test_swalr_errors_match_torch():
    torch_opt, ember_opt = _optimizers()
    for kwargs in [{"swa_lr": [0.1]}, {"swa_lr": 0.1, "anneal_strategy": "exp"}, {"swa_lr": 0.1, "anneal_epochs": -1},
                   {"swa_lr": 0.1, "anneal_epochs": 1.5}]:
        with pytest.raises(ValueError) as torch_error:
            torch_swa.SWALR(torch_opt, **kwargs)
        with pytest.raises(ValueError) as ember_error:
            ember_swa.SWALR(ember_opt, **kwargs)
        assert str(ember_error.value) == str(torch_error.value)
    assert sorted(ember_swa.__all__) == sorted(torch_swa.__all__)
    assert ember.optim.swa_utils is ember_swa
