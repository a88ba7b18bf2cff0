"""The LSTM cell C kernels (ember/kernels/rnn_cell.py) against the NumPy time-step loop they replace, and
against torch, for every layout the layer takes."""

import numpy as np
import pytest
import torch

import ember
from ember.kernels import rnn_cell, loader as kernels

needs_compiler = pytest.mark.skipif(not kernels.available(), reason="no C compiler or cffi")

CASES = {
    "time_major": dict(batch_first=False),
    "batch_first": dict(batch_first=True),
    "bidirectional_two_layers": dict(batch_first=True, bidirectional=True, num_layers=2),
    "projection": dict(batch_first=False, proj_size=3),
}


def _run(case, packed=False):
    """Output, final state and every gradient of an Ember LSTM started from torch's weights."""
    options = CASES[case]
    torch.manual_seed(0)
    reference = torch.nn.LSTM(5, 6, **options)
    model = ember.nn.LSTM(5, 6, **options)
    model.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy()) for k, v in reference.state_dict().items()})
    rng = np.random.default_rng(1)
    shape = (4, 7, 5) if options.get("batch_first") else (7, 4, 5)
    data = rng.standard_normal(shape).astype(np.float32) * 2
    x = ember.from_numpy(data).requires_grad_()
    tx = torch.from_numpy(data).requires_grad_()
    if packed:
        lengths = [7, 5, 5, 2]
        out, (h, c) = model(ember.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=options.get("batch_first", False)))
        tout, (th, tc) = reference(torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first=options.get("batch_first", False)))
        out, tout = out.data, tout.data
    else:
        out, (h, c) = model(x)
        tout, (th, tc) = reference(tx)
    weights = rng.standard_normal(tuple(out.shape)).astype(np.float32)
    ((out * ember.from_numpy(weights)).sum() + h.sum() + (c * c).sum()).backward()
    ((tout * torch.from_numpy(weights)).sum() + th.sum() + (tc * tc).sum()).backward()
    ours = [out.detach().numpy(), h.detach().numpy(), c.detach().numpy(), x.grad.numpy()]
    ours += [p.grad.numpy() for p in model.parameters()]
    theirs = [tout.detach().numpy(), th.detach().numpy(), tc.detach().numpy(), tx.grad.numpy()]
    theirs += [p.grad.numpy() for p in reference.parameters()]
    return ours, theirs


@needs_compiler
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_kernels_match_the_numpy_loop_and_torch(case, packed, monkeypatch):
    calls = {"forward": 0, "backward": 0}
    for name, cls in (("forward", rnn_cell.LstmForward), ("backward", rnn_cell.LstmBackward)):
        original = cls.step

        def counting(self, *args, _name=name, _original=original):
            calls[_name] += 1
            return _original(self, *args)
        monkeypatch.setattr(cls, "step", counting)
    fused, torch_values = _run(case, packed)
    assert calls["backward"] > 0 and (calls["forward"] > 0) == ("proj_size" not in CASES[case])
    monkeypatch.setitem(rnn_cell._STATE, "lib", None)  # the NumPy loop
    numpy_values, _ = _run(case, packed)
    for got, expected, reference in zip(fused, numpy_values, torch_values):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got, reference, rtol=1e-4, atol=1e-5)


@needs_compiler
def test_backward_kernel_equals_the_numpy_loop_bit_for_bit():
    """Given the same forward activations, the backward kernel performs NumPy's float32 operations in order."""
    def backward(use_kernel):
        ember.manual_seed(0)
        cell = ember.nn.LSTM(8, 16)
        x = ember.randn(5, 3, 8, requires_grad=True)
        out, _ = cell(x)  # the same activations in both runs: the forward kernel runs in both
        saved = rnn_cell._STATE["lib"]
        if not use_kernel:
            rnn_cell._STATE["lib"] = None
        try:
            out.sum().backward()
        finally:
            rnn_cell._STATE["lib"] = saved
        return [x.grad.numpy()] + [p.grad.numpy() for p in cell.parameters()]

    for got, expected in zip(backward(True), backward(False)):
        np.testing.assert_array_equal(got, expected)


def test_float64_and_opt_out_run_the_numpy_loop(monkeypatch):
    acts = np.zeros((2, 1, 8), np.float64)
    arrays = [np.zeros((2, 1, 2), np.float64) for _ in range(4)] + [np.zeros((1, 2))] * 2
    assert rnn_cell.lstm_forward(acts, *arrays) is None
    monkeypatch.setitem(rnn_cell._STATE, "lib", None)
    assert rnn_cell.lstm_forward(acts.astype(np.float32), *[a.astype(np.float32) for a in arrays]) is None
