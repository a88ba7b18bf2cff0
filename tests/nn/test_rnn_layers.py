"""Recurrent layers against torch: RNN/LSTM/GRU (every option that changes the computation), the cells,
packed input, errors, and gradchecks of the fused layer op."""

import numpy as np
import pytest
import torch

import ember
from ember.ops.recurrent import reference_layer, rnn_layer
from tests.nn.parity import assert_close, check_layer_parity, copy_torch_state, to_ember

LAYERS = {"RNN": (torch.nn.RNN, ember.nn.RNN), "LSTM": (torch.nn.LSTM, ember.nn.LSTM),
          "GRU": (torch.nn.GRU, ember.nn.GRU)}

# (layer, constructor kwargs): each line changes the computation in a way the others do not.
CONFIGS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}),
    ("RNN", {"bias": False, "batch_first": True}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("LSTM", {"proj_size": 3}),
    ("LSTM", {"proj_size": 2, "num_layers": 2, "bidirectional": True, "bias": False}),
    ("GRU", {}),
    ("GRU", {"num_layers": 2, "bidirectional": True}),
    ("GRU", {"bias": False, "batch_first": True, "num_layers": 2}),
]


def _pair(kind, **kwargs):
    torch_cls, ember_cls = LAYERS[kind]
    torch.manual_seed(0)
    return ember_cls(4, 5, **kwargs), torch_cls(4, 5, **kwargs)


def _hidden(kind, kwargs, batch, unbatched=False):
    directions = 2 if kwargs.get("bidirectional") else 1
    layers = kwargs.get("num_layers", 1) * directions
    out = kwargs.get("proj_size") or 5
    shape = (layers, out) if unbatched else (layers, batch, out)
    h0 = torch.randn(*shape)
    if kind != "LSTM":
        return h0
    return (h0, torch.randn(*(shape[:-1] + (5,))))


@pytest.mark.parametrize("kind,kwargs", CONFIGS, ids=lambda v: str(v))
def test_layer_parity(kind, kwargs):
    ember_layer, torch_layer = _pair(kind, **kwargs)
    torch.manual_seed(1)
    x = torch.randn(3, 6, 4) if kwargs.get("batch_first") else torch.randn(6, 3, 4)
    check_layer_parity(ember_layer, torch_layer, x)
    check_layer_parity(ember_layer, torch_layer, x, _hidden(kind, kwargs, 3), modes=("train",))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(kind):
    kwargs = {"num_layers": 2, "bidirectional": True}
    ember_layer, torch_layer = _pair(kind, **kwargs)
    x = torch.randn(6, 4)
    check_layer_parity(ember_layer, torch_layer, x, modes=("train",))
    check_layer_parity(ember_layer, torch_layer, x, _hidden(kind, kwargs, 1, unbatched=True), modes=("train",))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_float64_and_dtype_kwarg(kind):
    torch_cls, ember_cls = LAYERS[kind]
    torch.manual_seed(0)
    ember_layer, torch_layer = ember_cls(4, 5, dtype=ember.float64), torch_cls(4, 5, dtype=torch.float64)
    assert ember_layer.weight_ih_l0.dtype == ember.float64
    check_layer_parity(ember_layer, torch_layer, torch.randn(5, 2, 4, dtype=torch.float64), modes=("train",),
                       rtol=1e-10, atol=1e-10)


def test_dropout_between_layers_train_only():
    # dropout=1 zeroes the whole input of layer 2 in training, deterministically in both libraries.
    ember_layer, torch_layer = _pair("LSTM", num_layers=2, dropout=1.0)
    x = torch.randn(5, 2, 4)
    check_layer_parity(ember_layer, torch_layer, x)
    ember_layer, torch_layer = _pair("GRU", num_layers=3, dropout=0.5, bidirectional=True)
    check_layer_parity(ember_layer, torch_layer, x, modes=("eval",))
    ember_layer.train()
    ember.manual_seed(0)
    first = ember_layer(to_ember(x))[0]
    ember.manual_seed(0)
    assert bool((first == ember_layer(to_ember(x))[0]).all())
    ember.manual_seed(1)
    assert not bool((first == ember_layer(to_ember(x))[0]).all())


def _packed_forward(lengths):
    def run(module, padded, *hidden):
        utils = (torch if isinstance(module, torch.nn.Module) else ember).nn.utils.rnn
        packed = utils.pack_padded_sequence(padded, lengths, enforce_sorted=False)
        out, h = module(packed, *hidden)
        assert isinstance(out, utils.PackedSequence)
        padded_out, out_lengths = utils.pad_packed_sequence(out, total_length=padded.shape[0])
        return padded_out, out_lengths, h
    return run


@pytest.mark.parametrize("kind,kwargs", [("LSTM", {"num_layers": 2, "bidirectional": True}),
                                         ("LSTM", {"proj_size": 3, "bidirectional": True}),
                                         ("GRU", {"bidirectional": True}),
                                         ("RNN", {"num_layers": 2})], ids=str)
def test_packed_input_parity(kind, kwargs):
    ember_layer, torch_layer = _pair(kind, **kwargs)
    lengths = [3, 6, 1, 6]
    x = torch.randn(7, 4, 4)
    check_layer_parity(ember_layer, torch_layer, x, modes=("train",), forward=_packed_forward(lengths))
    hidden = _hidden(kind, kwargs, 4)
    check_layer_parity(ember_layer, torch_layer, x, hidden, modes=("train",), forward=_packed_forward(lengths))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_packed_matches_each_sequence_alone(kind):
    ember.manual_seed(0)
    layer = LAYERS[kind][1](3, 4, num_layers=2, bidirectional=True)
    sequences = [ember.randn(n, 3) for n in (2, 5, 3)]
    packed = ember.nn.utils.rnn.pack_sequence(sequences, enforce_sorted=False)
    out, hidden = layer(packed)
    outputs = ember.nn.utils.rnn.unpack_sequence(out)
    h_n = hidden[0] if kind == "LSTM" else hidden
    for i, seq in enumerate(sequences):
        alone, alone_hidden = layer(seq)
        alone_h = alone_hidden[0] if kind == "LSTM" else alone_hidden
        np.testing.assert_allclose(outputs[i].detach().numpy(), alone.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(h_n[:, i].detach().numpy(), alone_h.detach().numpy(), rtol=1e-5, atol=1e-6)


CELLS = {"RNNCell": (torch.nn.RNNCell, ember.nn.RNNCell), "LSTMCell": (torch.nn.LSTMCell, ember.nn.LSTMCell),
         "GRUCell": (torch.nn.GRUCell, ember.nn.GRUCell)}


@pytest.mark.parametrize("kind,kwargs", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu", "bias": False}),
                                         ("LSTMCell", {}), ("LSTMCell", {"bias": False}), ("GRUCell", {}),
                                         ("GRUCell", {"bias": False})], ids=str)
def test_cell_parity(kind, kwargs):
    torch_cls, ember_cls = CELLS[kind]
    torch.manual_seed(0)
    ember_cell, torch_cell = ember_cls(4, 5, **kwargs), torch_cls(4, 5, **kwargs)
    check_layer_parity(ember_cell, torch_cell, torch.randn(3, 4), modes=("train",))
    hidden = (torch.randn(3, 5), torch.randn(3, 5)) if kind == "LSTMCell" else torch.randn(3, 5)
    check_layer_parity(ember_cell, torch_cell, torch.randn(3, 4), hidden, modes=("train",))
    unbatched = (torch.randn(5), torch.randn(5)) if kind == "LSTMCell" else torch.randn(5)
    check_layer_parity(ember_cell, torch_cell, torch.randn(4), unbatched, modes=("train",))


def test_parameter_names_init_and_repr():
    ember.manual_seed(0)
    lstm = ember.nn.LSTM(3, 8, num_layers=2, proj_size=2, bidirectional=True, bias=False)
    assert [n for n, _ in lstm.named_parameters()] == [n for n, _ in torch.nn.LSTM(
        3, 8, num_layers=2, proj_size=2, bidirectional=True, bias=False).named_parameters()]
    bound = 1 / np.sqrt(8)
    for p in lstm.parameters():
        assert p.abs().max().item() <= bound and p.abs().max().item() > bound / 2
    assert lstm._flat_weights_names[:3] == ["weight_ih_l0", "weight_hh_l0", "weight_hr_l0"]
    assert len(lstm.all_weights) == 4 and lstm.all_weights[1][0] is lstm.weight_ih_l0_reverse
    lstm.flatten_parameters()
    assert repr(ember.nn.GRU(2, 3, dropout=0.5, num_layers=2, batch_first=True)) == \
        repr(torch.nn.GRU(2, 3, dropout=0.5, num_layers=2, batch_first=True))
    assert repr(ember.nn.RNN(2, 3, nonlinearity="relu")) == repr(torch.nn.RNN(2, 3, nonlinearity="relu"))


def test_weights_replaced_after_construction_are_used():
    layer = ember.nn.GRU(2, 3)
    layer.weight_hh_l0 = ember.nn.Parameter(ember.zeros(9, 3))
    layer.weight_ih_l0 = ember.nn.Parameter(ember.zeros(9, 2))
    layer.bias_ih_l0.data.zero_()
    layer.bias_hh_l0.data.zero_()
    out, _ = layer(ember.ones(4, 1, 2))
    # All pre-activations are zero: z = 0.5, n = 0, so h halves at every step from 0 and stays 0.
    assert bool((out == 0).all())
    layer.double()
    assert layer(ember.ones(4, 1, 2, dtype=ember.float64))[0].dtype == ember.float64


def _error(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_forward_errors_match_torch():
    lstm, gru, rnn = ember.nn.LSTM(4, 3), ember.nn.GRU(4, 3), ember.nn.RNN(4, 3)
    _error(lambda: lstm(ember.randn(2, 5, 3)), RuntimeError, r"input.size\(-1\) must be equal to input_size. Expected 4, got 3")
    _error(lambda: gru(ember.randn(2, 5, 3)), RuntimeError, r"input.size\(-1\) must be equal to input_size")
    _error(lambda: lstm(ember.randn(2, 3, 4), (ember.randn(1, 2, 3), ember.randn(1, 3, 3))), RuntimeError,
           r"Expected hidden\[0\] size \(1, 3, 3\), got \[1, 2, 3\]")
    _error(lambda: lstm(ember.randn(2, 3, 4), (ember.randn(1, 3, 3), ember.randn(1, 3, 4))), RuntimeError,
           r"Expected hidden\[1\] size \(1, 3, 3\), got \[1, 3, 4\]")
    _error(lambda: gru(ember.randn(2, 3, 4), ember.randn(1, 2, 3)), RuntimeError,
           r"Expected hidden size \(1, 3, 3\), got \[1, 2, 3\]")
    _error(lambda: lstm(ember.randn(2, 3, 4, dtype=ember.float64)), ValueError,
           r"RNN input dtype \(ember.float64\) does not match weight dtype \(ember.float32\)")
    _error(lambda: lstm(ember.randn(2, 3, 4, 1)), ValueError, r"LSTM: Expected input to be 2D or 3D, got 4D instead")
    _error(lambda: rnn(ember.randn(4)), ValueError, r"RNN: Expected input to be 2D or 3D, got 1D tensor instead")
    _error(lambda: gru(ember.randn(2, 3, 4), ember.randn(3, 3)), RuntimeError,
           r"For batched 3-D input, hx should also be 3-D but got 2-D tensor")
    _error(lambda: rnn(ember.randn(2, 4), ember.randn(1, 1, 3)), RuntimeError,
           r"For unbatched 2-D input, hx should also be 2-D but got 3-D tensor")
    _error(lambda: lstm(ember.randn(2, 4), (ember.randn(1, 1, 3), ember.randn(1, 3))), RuntimeError,
           r"For unbatched 2-D input, hx and cx should also be 2-D but got \(3-D, 2-D\) tensors")
    packed = ember.nn.utils.rnn.pack_sequence([ember.randn(3, 5)])
    _error(lambda: lstm(packed), RuntimeError, r"input.size\(-1\) must be equal to input_size. Expected 4, got 5")
    cell = ember.nn.LSTMCell(4, 3)
    _error(lambda: cell(ember.randn(2, 5)), RuntimeError, r"input has inconsistent input_size: got 5 expected 4")
    _error(lambda: cell(ember.randn(2, 2, 4)), ValueError, r"LSTMCell: Expected input to be 1D or 2D, got 3D instead")
    _error(lambda: ember.nn.GRUCell(4, 3)(ember.randn(2, 4), ember.randn(1, 2, 3)), ValueError,
           r"GRUCell: Expected hidden to be 1D or 2D, got 3D instead")
    bad = ember.nn.RNNCell(4, 3)
    bad.nonlinearity = "gelu"
    _error(lambda: bad(ember.randn(2, 4)), RuntimeError, r"Unknown nonlinearity: gelu")


@pytest.mark.parametrize("cls,args,kwargs,exc,match", [
    (ember.nn.LSTM, (4, 3), {"dropout": 1.5}, ValueError, "dropout should be a number in range"),
    (ember.nn.LSTM, (4, 3), {"dropout": True}, ValueError, "dropout should be a number in range"),
    (ember.nn.LSTM, (4, 3), {"bias": 1}, TypeError, "bias should be of type bool, got: int"),
    (ember.nn.LSTM, (4, 3), {"batch_first": None}, TypeError, "batch_first should be of type bool"),
    (ember.nn.GRU, (4.0, 3), {}, TypeError, "input_size should be of type int, got: float"),
    (ember.nn.GRU, (0, 3), {}, ValueError, "input_size must be greater than zero"),
    (ember.nn.GRU, (4, 0), {}, ValueError, "hidden_size must be greater than zero"),
    (ember.nn.GRU, (4, 3, 0), {}, ValueError, "num_layers must be greater than zero"),
    (ember.nn.LSTM, (4, 3), {"proj_size": 3}, ValueError, "proj_size has to be smaller than hidden_size"),
    (ember.nn.LSTM, (4, 3), {"proj_size": -1}, ValueError, "proj_size should be a positive integer"),
    (ember.nn.GRU, (4, 3), {"proj_size": 1}, ValueError, "proj_size argument is only supported for LSTM"),
    (ember.nn.RNN, (4, 3), {"nonlinearity": "gelu"}, ValueError, "Unknown nonlinearity 'gelu'"),
])
def test_constructor_errors(cls, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        cls(*args, **kwargs)


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        ember.nn.LSTM(4, 3, dropout=0.2)


def _float64(*shape, rng):
    return ember.tensor(rng.standard_normal(shape) * 0.5, dtype=ember.float64, requires_grad=True)


@pytest.mark.parametrize("mode,layout", [("LSTM", "time_major"), ("LSTM", "packed"), ("LSTM", "batch_first"),
                                         ("GRU", "packed"), ("GRU", "time_major"), ("RNN_TANH", "batch_first"),
                                         ("RNN_RELU", "packed")])
def test_layer_op_gradcheck(mode, layout):
    rng = np.random.default_rng(0)
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    hidden, out = 3, (2 if mode == "LSTM" and layout == "time_major" else 3)
    x = {"time_major": (4, 2, 3), "batch_first": (2, 4, 3), "packed": (6, 3)}[layout]
    batch_sizes = (3, 2, 1) if layout == "packed" else None
    batch = 3 if layout == "packed" else 2
    args = [_float64(*x, rng=rng), _float64(batch, out, rng=rng),
            _float64(batch, hidden, rng=rng) if mode == "LSTM" else None,
            _float64(gates * hidden, 3, rng=rng), _float64(gates * hidden, out, rng=rng),
            _float64(gates * hidden, rng=rng), _float64(gates * hidden, rng=rng),
            _float64(out, hidden, rng=rng) if out != hidden else None]
    present = [i for i, a in enumerate(args) if a is not None]

    def run(*tensors):
        full = list(args)
        for i, t in zip(present, tensors):
            full[i] = t
        return rnn_layer(*full, mode, batch_sizes, layout == "batch_first", True)

    inputs = [args[i] for i in present]
    assert ember.autograd.gradcheck(run, inputs)
    if layout == "packed":
        assert ember.autograd.gradgradcheck(run, inputs)
    fused = run(*inputs)
    reference = reference_layer(*args, mode, batch_sizes, layout == "batch_first", True)
    for f, r in zip(fused, reference):
        np.testing.assert_allclose(f.detach().numpy(), r.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_lstm_language_model_step_matches_torch():
    """Embedding -> 2-layer LSTM -> Linear, a training step's loss and gradients (the main use)."""
    torch.manual_seed(0)
    torch_model = torch.nn.ModuleDict({"emb": torch.nn.Embedding(11, 6), "rnn": torch.nn.LSTM(6, 8, 2),
                                       "out": torch.nn.Linear(8, 11)})
    ember_model = ember.nn.ModuleDict({"emb": ember.nn.Embedding(11, 6), "rnn": ember.nn.LSTM(6, 8, 2),
                                       "out": ember.nn.Linear(8, 11)})
    copy_torch_state(ember_model, torch_model)
    tokens = torch.randint(0, 11, (7, 3))
    targets = torch.randint(0, 11, (7, 3))

    def step(model, lib, tokens, targets, hidden):
        output, hidden = model["rnn"](model["emb"](tokens), hidden)
        logits = model["out"](output)
        loss = lib.nn.functional.cross_entropy(logits.reshape(-1, 11), targets.reshape(-1))
        loss.backward()
        return loss, hidden

    torch_loss, torch_hidden = step(torch_model, torch, tokens, targets, None)
    ember_loss, ember_hidden = step(ember_model, ember, to_ember(tokens), to_ember(targets), None)
    assert_close(ember_loss, torch_loss)
    # Truncated BPTT: the detached state carries into the next batch.
    torch_loss, _ = step(torch_model, torch, tokens, targets, tuple(h.detach() for h in torch_hidden))
    ember_loss, _ = step(ember_model, ember, to_ember(tokens), to_ember(targets),
                         tuple(h.detach() for h in ember_hidden))
    assert_close(ember_loss, torch_loss)
    ember_params = dict(ember_model.named_parameters())
    for name, p in torch_model.named_parameters():
        assert_close(ember_params[name].grad, p.grad, what=name)


@pytest.mark.parametrize("torch_dtype,ember_dtype", [(torch.bfloat16, ember.bfloat16), (torch.float16, ember.float16)])
def test_low_precision_forward_backward(torch_dtype, ember_dtype):
    ember_layer, torch_layer = _pair("GRU", num_layers=2)
    copy_torch_state(ember_layer, torch_layer)
    ember_layer.to(ember_dtype)
    torch_layer.to(torch_dtype)
    x = torch.randn(5, 2, 4).to(torch_dtype)
    ember_out = ember_layer(to_ember(x))[0]
    torch_out = torch_layer(x)[0]
    assert ember_out.dtype == ember_dtype
    assert_close(ember_out, torch_out, rtol=2e-2, atol=2e-2)
    ember_out.float().sum().backward()
    assert ember_layer.weight_hh_l1.grad.dtype == ember_dtype


def test_double_backward_through_layer_matches_torch():
    ember_layer, torch_layer = _pair("LSTM", bidirectional=True)
    copy_torch_state(ember_layer, torch_layer)
    ember_layer.double()
    torch_layer.double()
    x = torch.randn(4, 2, 4, dtype=torch.float64, requires_grad=True)
    ember_x = to_ember(x, requires_grad=True)
    results = []
    for lib, layer, inp in ((torch, torch_layer, x), (ember, ember_layer, ember_x)):
        (grad_x,) = lib.autograd.grad(layer(inp)[0].pow(2).sum(), inp, create_graph=True)
        grad_x.pow(2).sum().backward()
        results.append((grad_x, inp.grad, layer.weight_hh_l0_reverse.grad))
    assert_close(results[1], results[0], rtol=1e-9, atol=1e-9)


def test_deepcopy_and_state_dict_roundtrip():
    import copy
    layer = ember.nn.LSTM(3, 4, num_layers=2, proj_size=2)
    clone = copy.deepcopy(layer)
    x = ember.randn(5, 2, 3)
    np.testing.assert_array_equal(clone(x)[0].detach().numpy(), layer(x)[0].detach().numpy())
    fresh = ember.nn.LSTM(3, 4, num_layers=2, proj_size=2)
    fresh.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(fresh(x)[1][1].detach().numpy(), layer(x)[1][1].detach().numpy())
