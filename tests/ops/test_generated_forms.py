"""The public functions ``register_op`` generates from a definition, against PyTorch's: operands by keyword
(``torch.pow(input=x, exponent=2)``), and a TypeError for an operand too many."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.ops.registry import REGISTRY

# every op whose public function is generated (no function body of its own) and names its operands
NAMED = sorted(name for name, op in REGISTRY.items()
               if op.operands is not None and op.function is not None and "function" not in op.cls.__dict__)


def _operands(op):
    """One ember and one torch tensor per operand: integers for integer-only ops, else floats inside every
    domain (0.1 ... 0.9: acos, atanh, log and erfinv are defined there)."""
    rng = np.random.default_rng(len(op.name))
    integers = op.allowed is not None and 2 not in op.allowed
    arrays = [rng.integers(1, 4, 5) if integers else rng.uniform(0.1, 0.9, 5) for _ in op.operands]
    return [ember.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


def test_there_are_generated_functions_with_named_operands():
    assert {"mul", "pow", "exp", "gt", "bitwise_and", "sigmoid"} <= set(NAMED)


@pytest.mark.parametrize("name", NAMED)
def test_operands_by_keyword_as_torch_names_them(name):
    op = REGISTRY[name]
    public = op.function.__name__
    ours, theirs = _operands(op)
    expected = getattr(torch, public)(**dict(zip(op.operands, theirs)))
    result = getattr(ember, public)(**dict(zip(op.operands, ours)))
    np.testing.assert_allclose(result.numpy(), expected.numpy(), rtol=1e-12)
    if len(ours) > 1:  # the first positionally, the rest by keyword; and as a method
        rest = dict(zip(op.operands[1:], ours[1:]))
        np.testing.assert_allclose(getattr(ember, public)(ours[0], **rest).numpy(), expected.numpy(), rtol=1e-12)
        np.testing.assert_allclose(getattr(ours[0], public)(**rest).numpy(), expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", NAMED)
def test_an_operand_too_many_is_a_type_error_that_writes_nothing(name):
    op = REGISTRY[name]
    public = op.function.__name__
    ours, theirs = _operands(op)
    extra, extra_torch = ember.zeros(5, dtype=ours[0].dtype), torch.zeros(5, dtype=theirs[0].dtype)
    with pytest.raises(TypeError):
        getattr(torch, public)(*theirs, extra_torch)
    with pytest.raises(TypeError, match=rf"{public}\(\) takes {len(ours)} positional argument"):
        getattr(ember, public)(*ours, extra)
    with pytest.raises(TypeError, match=rf"{public}\(\) takes {len(ours)} positional argument"):
        getattr(ours[0], public)(*ours[1:], extra)
    assert not extra.numpy().any()


def test_missing_and_doubled_operands_are_type_errors():
    x = ember.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"mul\(\) missing 1 required argument: 'other'"):
        ember.mul(x)
    with pytest.raises(TypeError, match=r"mul\(\) got multiple values for argument 'input'"):
        ember.mul(x, input=x)
    with pytest.raises(TypeError, match=r"lt_\(\) takes 1 positional argument but 2 were given"):
        x.lt_(x, x)
