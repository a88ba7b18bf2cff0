"""ember.nn.utils.rnn against torch.nn.utils.rnn: padding, packing, unpacking, values and gradients."""

import pytest
import torch
import torch.nn.utils.rnn as trnn

import ember
import ember.nn.utils.rnn as ernn
from tests.nn.parity import assert_close, to_ember


def _sequences(lengths, trailing=(2,), dtype=torch.float32):
    torch.manual_seed(0)
    torch_seqs = [torch.randn(n, *trailing, dtype=dtype, requires_grad=True) for n in lengths]
    return torch_seqs, [to_ember(s, requires_grad=True) for s in torch_seqs]


def _backward_and_compare(ember_out, torch_out, ember_inputs, torch_inputs):
    weights = torch.linspace(-1, 1, torch_out.numel()).reshape(torch_out.shape)
    torch_out.backward(weights)
    ember_out.backward(to_ember(weights))
    for i, (e, t) in enumerate(zip(ember_inputs, torch_inputs)):
        assert_close(e.grad, t.grad, what=f"grad of sequence {i}")


@pytest.mark.parametrize("batch_first,padding_side,trailing", [(False, "right", (2,)), (True, "right", ()),
                                                               (True, "left", (2, 3)), (False, "left", (1,))])
def test_pad_sequence(batch_first, padding_side, trailing):
    torch_seqs, ember_seqs = _sequences([3, 5, 1], trailing)
    expected = trnn.pad_sequence(torch_seqs, batch_first=batch_first, padding_value=-2.5, padding_side=padding_side)
    got = ernn.pad_sequence(ember_seqs, batch_first=batch_first, padding_value=-2.5, padding_side=padding_side)
    assert_close(got, expected)
    _backward_and_compare(got, expected, ember_seqs, torch_seqs)


def test_pad_sequence_integer_and_tensor_input():
    seqs = [torch.tensor([1, 2, 3]), torch.tensor([4])]
    assert_close(ernn.pad_sequence([to_ember(s) for s in seqs], padding_value=7), trnn.pad_sequence(seqs, padding_value=7))
    stacked = torch.randn(3, 4)
    assert_close(ernn.pad_sequence(to_ember(stacked)), trnn.pad_sequence(stacked))


@pytest.mark.parametrize("batch_first,enforce_sorted,lengths", [(False, True, [5, 3, 3, 1]),
                                                                (True, False, [2, 5, 2, 4]),
                                                                (False, False, [1, 4, 4, 2])])
def test_pack_and_pad_roundtrip(batch_first, enforce_sorted, lengths):
    torch.manual_seed(0)
    shape = (4, 6, 3) if batch_first else (6, 4, 3)
    torch_x = torch.randn(*shape, requires_grad=True)
    ember_x = to_ember(torch_x, requires_grad=True)
    torch_packed = trnn.pack_padded_sequence(torch_x, torch.tensor(lengths), batch_first, enforce_sorted)
    ember_packed = ernn.pack_padded_sequence(ember_x, ember.tensor(lengths), batch_first, enforce_sorted)
    assert isinstance(ember_packed, ernn.PackedSequence) and isinstance(ember_packed, tuple)
    for field in ("data", "batch_sizes", "sorted_indices", "unsorted_indices"):
        assert_close(getattr(ember_packed, field), getattr(torch_packed, field), what=field)
    for total_length in (None, 7):
        torch_padded, torch_lengths = trnn.pad_packed_sequence(torch_packed, batch_first, 0.5, total_length)
        ember_padded, ember_lengths = ernn.pad_packed_sequence(ember_packed, batch_first, 0.5, total_length)
        assert_close(ember_padded, torch_padded)
        assert_close(ember_lengths, torch_lengths)
    _backward_and_compare(ember_padded, torch_padded, [ember_x], [torch_x])


def test_pack_sequence_unpack_and_unpad():
    torch_seqs, ember_seqs = _sequences([2, 4, 3])
    for enforce_sorted in (False,):
        torch_packed = trnn.pack_sequence(torch_seqs, enforce_sorted=enforce_sorted)
        ember_packed = ernn.pack_sequence(ember_seqs, enforce_sorted=enforce_sorted)
        assert_close(list(ember_packed), list(torch_packed))
        assert_close(ernn.unpack_sequence(ember_packed), trnn.unpack_sequence(torch_packed))
    sorted_seqs = [torch.arange(3), torch.arange(2)]
    assert_close(list(ernn.pack_sequence([to_ember(s) for s in sorted_seqs])), list(trnn.pack_sequence(sorted_seqs)))
    padded = torch.randn(4, 3, 2)
    lengths = torch.tensor([4, 1, 3])
    assert_close(ernn.unpad_sequence(to_ember(padded), to_ember(lengths)), trnn.unpad_sequence(padded.clone(), lengths))
    batch_major = padded.transpose(0, 1).contiguous()
    assert_close(ernn.unpad_sequence(to_ember(batch_major), to_ember(lengths), batch_first=True),
                 trnn.unpad_sequence(batch_major, lengths, batch_first=True))


def test_packed_sequence_object():
    data, sizes = ember.tensor([1.0, 2.0, 3.0]), ember.tensor([2, 1])
    packed = ernn.PackedSequence(data, sizes, ember.tensor([1, 0]))
    assert packed.unsorted_indices.tolist() == [1, 0]
    assert packed._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert packed.to(ember.float32) is packed
    converted = packed.double()
    assert converted.data.dtype == ember.float64 and converted.batch_sizes is sizes
    assert isinstance(converted, ernn.PackedSequence) and not converted.is_cuda
    assert ernn.PackedSequence((data, sizes)).batch_sizes is sizes
    data_out, batch_sizes, sorted_indices, unsorted_indices = packed
    assert data_out is data and sorted_indices.tolist() == [1, 0]
    assert ernn.invert_permutation(ember.tensor([2, 0, 3, 1])).tolist() == \
        trnn.invert_permutation(torch.tensor([2, 0, 3, 1])).tolist()
    assert ernn.invert_permutation(None) is None
    assert repr(ernn.pack_sequence([ember.tensor([1, 2]), ember.tensor([3])])) == \
        repr(trnn.pack_sequence([torch.tensor([1, 2]), torch.tensor([3])]))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: ernn.pack_padded_sequence(ember.randn(4, 3, 2), [2, 3, 1]), RuntimeError,
     r"`lengths` array must be sorted in decreasing order when `enforce_sorted` is True"),
    (lambda: ernn.pack_padded_sequence(ember.randn(4, 3, 2), [3, 2, 0]), RuntimeError,
     r"Length of all samples has to be greater than 0"),
    (lambda: ernn.pack_padded_sequence(ember.randn(4, 3, 2), [3, 2]), RuntimeError,
     r"Expected `len\(lengths\)` to be equal to batch_size, but got 2 \(batch_size=3\)"),
    (lambda: ernn.pack_padded_sequence(ember.randn(4, 3, 2), [5, 2, 1]), RuntimeError,
     r"longest length 5 exceeds the 4 time steps"),
    (lambda: ernn.pack_padded_sequence(ember.randn(4, 3, 2), ember.tensor([[3, 2, 1]])), RuntimeError,
     r"'lengths' argument should be a 1D"),
    (lambda: ernn.unpad_sequence(ember.ones(4, 3), ember.tensor([4, 1])), ValueError,
     r"got 2 lengths for a batch of 3 sequences"),
    (lambda: ernn.pad_sequence([]), RuntimeError, r"received an empty list of sequences"),
    (lambda: ernn.pad_sequence([ember.ones(2)], padding_side="middle"), RuntimeError,
     r"Expected padding_side to be one of left or right, but got middle."),
    (lambda: ernn.pad_sequence([ember.ones(2, 3), ember.ones(3, 2)]), RuntimeError,
     r"same trailing dims.*\[2, 3\].*\[3, 2\]"),
    (lambda: ernn.pad_sequence(3), RuntimeError, r"Expected iterable for input sequences"),
    (lambda: ernn.pad_sequence([ember.tensor(1.0)]), RuntimeError, r"0-d tensor"),
    (lambda: ernn.pad_packed_sequence(ernn.pack_sequence([ember.ones(3), ember.ones(2)]), total_length=2),
     ValueError, r"Expected total_length to be at least the length of the longest sequence in input, but got "
                 r"total_length=2 and max sequence length being 3"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
