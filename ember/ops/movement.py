"""Shape and movement ops: what rearranges, joins, splits, repeats, reorders or pads elements without
computing new values: reshape/view/ravel, expand, permute/transpose, squeeze/unsqueeze, clone, cat/stack,
block_diag, cartesian_prod/combinations, split/chunk, repeat/tile, flip/roll, diff (neighbours along a dim),
triangles and diagonals (diagflat), narrow/select/unfold/as_strided, pad.

Each op is registered once with its function, method, in-place and ``out=`` forms (see ``registry.py``);
functions made from other ops (``squeeze``, ``t``, ``hstack`` ...) are registered with ``register_function``.
Views share memory with their input (writing through one writes the other) and share its version
counter, as in PyTorch; the in-place view ops (``squeeze_``, ``unsqueeze_``, ``transpose_``, ``t_``) give a tensor
the view's shape, strides and place in the graph. Indexing (``t[i]``, gather/scatter, masks) is in ``index.py``.

>>> import ember
>>> x = ember.arange(6).reshape(2, 3)
>>> x.t()
tensor([[0, 3],
        [1, 4],
        [2, 5]])
>>> v = x.view(-1); v[0] = 100; x[0, 0].item()
100
"""

from __future__ import annotations

import math

import numpy as np

from ember import dtypes as _dt
from ember.errors import op_error
from ember.ops.arguments import as_shape, require_tensor, wrap_dim
from ember.ops.arithmetic import Ne, Sub
from ember.ops.index import GetItem, IndexAdd, IndexSelect, MaskedSelect
from ember.ops.registry import _Scratch, apply_inplace, check_inplace_allowed, register_function, register_op, write_out
from ember.tensor import Tensor, from_array


def _infer_shape(shape, numel, op_name):
    if -1 in shape:
        if shape.count(-1) > 1:
            raise op_error(RuntimeError, op_name, "only one dimension can be inferred")
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 or numel % known:
            raise op_error(RuntimeError, op_name, f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    total = 1
    for s in shape:
        total *= s
    if total != numel:
        raise op_error(RuntimeError, op_name, f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


@register_op
class Reshape:
    """The same data in a new shape: a view when the strides allow it, a copy otherwise; one dimension may be -1.

    >>> ember.arange(4).reshape(2, -1).shape
    ember.Size([2, 2])
    """

    name = "reshape"
    kind = "movement"
    promote = "none"
    view = True
    method = True
    out = False

    def function(input, *shape):
        shape = _infer_shape(as_shape(shape, "reshape"), input._data.size, "reshape")
        if shape == input._data.shape:
            return Reshape(input, shape=shape) if input._requires_grad else _alias(input)
        return Reshape(input, shape=shape)

    def forward(a, shape):
        return np.reshape(a, shape)

    def backward(ctx, grad):
        return grad.reshape(ctx.input_meta[0][0])


@register_function(names="Tensor.reshape_as")
def reshape_as(input, other):
    """``input.reshape(other.shape)`` (a Tensor method only, as in PyTorch).

    >>> ember.arange(4).reshape_as(ember.zeros(2, 2)).shape
    ember.Size([2, 2])
    """
    return Reshape.function(input, other._data.shape)


@register_op
class View:
    """A view with a new shape; raises when the memory layout would need a copy (``reshape`` copies instead).
    ``view(dtype)`` reinterprets the memory as another dtype of the same element size.

    >>> ember.zeros(2, 3).view(6).shape
    ember.Size([6])
    """

    name = "view"
    kind = "movement"
    promote = "none"
    view = True
    replay_op = Reshape  # views any layout, copying where view would refuse
    method = True
    out = False

    def function(input, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) and not hasattr(shape[0], "__index__"):
            target = _dt.to_dtype(shape[0])
            if target.itemsize != input._dtype.itemsize:
                raise op_error(RuntimeError, "view", "view(dtype) with a different element size is not supported")
            out = from_array(input._data.view(target.numpy_dtype), version=input._version)
            out._base = input if input._base is None else input._base
            return out
        shape = _infer_shape(as_shape(shape, "view"), input._data.size, "view")
        return View(input, shape=shape)

    def forward(a, shape):
        try:
            return np.reshape(a, shape, copy=False)
        except ValueError:  # dispatch names the op, the inputs and the caller's line
            raise ValueError("view size is not compatible with input tensor's size and stride (at least one "
                             "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None

    def backward(ctx, grad):
        return grad.reshape(ctx.input_meta[0][0])


@register_function(names="Tensor.view_as")
def view_as(input, other):
    """``input.view(other.shape)`` (a Tensor method only, as in PyTorch).

    >>> ember.arange(4).view_as(ember.zeros(2, 2)).shape
    ember.Size([2, 2])
    """
    return View.function(input, other._data.shape)


def _alias(input):
    out = from_array(input._data.view(), version=input._version)
    out._base = input if input._base is None else input._base
    return out


@register_op
class Expand:
    """Broadcast to a larger shape without copying (a view); -1 keeps a dimension.

    >>> ember.tensor([[1], [2]]).expand(2, 3)
    tensor([[1, 1, 1],
            [2, 2, 2]])
    """

    name = "expand"
    kind = "movement"
    promote = "none"
    view = True
    method = True
    out = False

    def function(input, *sizes):
        sizes = as_shape(sizes, "expand")
        have = input._data.shape
        if len(sizes) < len(have):
            raise op_error(RuntimeError, "expand", f"the number of sizes provided ({len(sizes)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({len(have)})")
        lead = len(sizes) - len(have)
        target = []
        for i, s in enumerate(sizes):
            if i < lead:
                if s == -1:
                    raise op_error(RuntimeError, "expand", f"the expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
                target.append(s)
                continue
            current = have[i - lead]
            if s == -1:
                s = current
            elif current != 1 and s != current:
                raise op_error(RuntimeError, "expand", f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({current}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                               f"Tensor sizes: {list(have)}")
            target.append(s)
        target = tuple(target)
        if target == have:
            return input if not input._requires_grad else Expand(input, shape=target)
        return Expand(input, shape=target)

    def forward(a, shape):
        return np.broadcast_to(a, shape)

    def backward(ctx, grad):
        from ember.ops.reduce import sum_to_size
        return sum_to_size(grad, ctx.input_meta[0][0])


@register_function(method=True)
def expand_as(input, other):
    """``input.expand(other.shape)``.

    >>> ember.tensor([1]).expand_as(ember.zeros(3)).shape
    ember.Size([3])
    """
    return Expand.function(input, other._data.shape)


@register_function
def expand_copy(input, *sizes):
    """``input.expand(*sizes)`` as a new tensor that owns its memory.

    >>> ember.expand_copy(ember.tensor([1, 2]), 2, 2)
    tensor([[1, 2],
            [1, 2]])
    """
    return Clone(Expand.function(input, *sizes))


@register_op
class Permute:
    """Reorder dimensions (a view).

    >>> ember.zeros(2, 3, 4).permute(2, 0, 1).shape
    ember.Size([4, 2, 3])
    """

    name = "permute"
    kind = "movement"
    promote = "none"
    view = True
    method = True
    out = False

    def function(input, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = dims[0]
        ndim = input._data.ndim
        if len(dims) != ndim:
            raise op_error(RuntimeError, "permute", f"number of dims don't match in permute: the tensor has {ndim} "
                           f"dimensions but {len(dims)} were given")
        dims = tuple(wrap_dim(d, ndim, "permute") for d in dims)
        if len(set(dims)) != ndim:
            raise op_error(RuntimeError, "permute", f"repeated dim in permute: {dims}")
        return Permute(input, dims=dims)

    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.transpose(a, dims)

    def backward(ctx, grad):
        return grad.permute(tuple(int(i) for i in np.argsort(ctx.dims)))


@register_op
class Transpose:
    """Swap two dimensions (a view).

    >>> ember.zeros(2, 3).transpose(0, 1).shape
    ember.Size([3, 2])
    """

    name = "transpose"
    names = ("transpose", "swapaxes", "swapdims")
    kind = "movement"
    promote = "none"
    view = True
    method = True
    out = False

    def function(input, dim0, dim1):
        ndim = input._data.ndim
        d0, d1 = wrap_dim(dim0, ndim, "transpose"), wrap_dim(dim1, ndim, "transpose")
        return Transpose(input, dim0=d0, dim1=d1)

    def inplace(self, dim0, dim1):
        """Swap two dimensions of ``self`` in place (its strides change, not its memory); returns ``self``.

        >>> x = ember.zeros(2, 3)
        >>> x.transpose_(0, 1) is x, x.shape
        (True, ember.Size([3, 2]))
        """
        return _restride_in_place(self, "transpose_", lambda t: Transpose.function(t, dim0, dim1))

    def forward(ctx, a, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return np.swapaxes(a, dim0, dim1) if a.ndim else a.view()  # a 0-d tensor's dims 0 and -1 are itself

    def backward(ctx, grad):
        return grad.transpose(*ctx.dims)


def _restride_in_place(self, op_name, take_view):
    """PyTorch's in-place view ops (``squeeze_``, ``unsqueeze_``, ``transpose_``, ``t_``): ``self`` takes the shape and
    strides of the view ``take_view`` makes of it (the same memory), and that view's place in the graph, so a gradient
    reaching ``self`` flows back through the view op into ``self``'s old history; a view stays a view of its base.
    ``self``'s version is bumped, as in PyTorch, so a backward that saved ``self`` in its old shape raises instead of
    reading it in the new one."""
    check_inplace_allowed(self, op_name)
    before = from_array(self._data, requires_grad=self._requires_grad, grad_fn=self.grad_fn, version=self._version)
    before._output_nr, before._base, before._view_of = self._output_nr, self._base, self._view_of
    after = take_view(before)
    self._data = after._data
    if after.grad_fn is not before.grad_fn:
        self.grad_fn, self._output_nr = after.grad_fn, after._output_nr
    if self._view_of is not None:  # the view's chain from its base now ends with this op
        self._view_of = after._view_of
    self._version.value += 1
    if self._view_of is not None:
        self._view_of.version = self._version.value
    return self


def _t_(self):
    """Transpose ``self`` (at most 2 dimensions) in place; returns ``self``.

    >>> x = ember.zeros(2, 3)
    >>> x.t_().shape
    ember.Size([3, 2])
    """
    if self._data.ndim > 2:
        raise op_error(RuntimeError, "t_", f"t_() expects a tensor with <= 2 dimensions, but self is {self._data.ndim}D")
    return _restride_in_place(self, "t_", t)


@register_function(method=True, inplace=_t_)
def t(input):
    """Transpose a tensor of at most 2 dimensions.

    >>> ember.zeros(2, 3).t().shape
    ember.Size([3, 2])
    """
    if input._data.ndim > 2:
        raise op_error(RuntimeError, "t", f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return Transpose.function(input, 0, 1) if input._data.ndim == 2 else input


def _squeeze_(self, dim=None):
    """Remove dimensions of size 1 from ``self`` in place (all of them, or those in ``dim``); returns ``self``.

    >>> x = ember.zeros(1, 2, 1)
    >>> x.squeeze_(0).shape
    ember.Size([2, 1])
    """
    return _restride_in_place(self, "squeeze_", lambda t: squeeze(t, dim))


@register_function(method=True, inplace=_squeeze_)
def squeeze(input, dim=None):
    """Remove dimensions of size 1 (all of them, or those in ``dim``).

    >>> ember.zeros(1, 2, 1).squeeze().shape
    ember.Size([2])
    """
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = {wrap_dim(d, len(shape), "squeeze") for d in dims}
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return Reshape(input, shape=new)


def _unsqueeze_(self, dim):
    """Insert a dimension of size 1 into ``self`` at ``dim``, in place; returns ``self``.

    >>> x = ember.zeros(2)
    >>> x.unsqueeze_(-1).shape
    ember.Size([2, 1])
    """
    return _restride_in_place(self, "unsqueeze_", lambda t: unsqueeze(t, dim))


@register_function(method=True, inplace=_unsqueeze_)
def unsqueeze(input, dim):
    """Insert a dimension of size 1 at ``dim``.

    >>> ember.zeros(2).unsqueeze(-1).shape
    ember.Size([2, 1])
    """
    shape = input._data.shape
    d = wrap_dim(dim, len(shape) + 1, "unsqueeze")
    return Reshape(input, shape=shape[:d] + (1,) + shape[d:])


@register_function(method=True)
def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim`` through ``end_dim`` into one.

    >>> ember.zeros(2, 3, 4).flatten(1).shape
    ember.Size([2, 12])
    """
    shape = input._data.shape
    if len(shape) == 0:
        return Reshape(input, shape=(1,))
    s = wrap_dim(start_dim, len(shape), "flatten")
    e = wrap_dim(end_dim, len(shape), "flatten")
    if s > e:
        raise op_error(RuntimeError, "flatten", "flatten() has invalid args: start_dim cannot come after end_dim")
    merged = 1
    for x in shape[s:e + 1]:
        merged *= x
    return Reshape(input, shape=shape[:s] + (merged,) + shape[e + 1:])


@register_function(method=True)
def ravel(input):
    """The elements in one dimension: a view when the memory layout allows it, else a contiguous copy.

    >>> ember.tensor([[1, 2], [3, 4]]).t().ravel()
    tensor([1, 3, 2, 4])
    """
    return Reshape.function(input, -1)


@register_op
class Clone:
    """A copy that is still connected to the graph.

    >>> a = ember.ones(2); b = a.clone(); b[0] = 5; a
    tensor([1., 1.])
    """

    name = "clone"
    kind = "elementwise"
    promote = "none"
    method = True
    out = False

    def function(input, *, memory_format=None):
        return Clone(input)

    def forward(a):
        return np.array(a, copy=True, order="C")

    def backward(ctx, grad):
        return grad


@register_function(method=True)
def contiguous(input, memory_format=None):
    """``input`` itself if C-contiguous, else a contiguous copy.

    >>> ember.zeros(2, 3).t().contiguous().is_contiguous()
    True
    """
    if input._data.flags.c_contiguous:
        return input
    return Clone(input)


# ------------------------------------------------------------------------------------ joining
def _tensor_list(tensors, op_name):
    if isinstance(tensors, Tensor):
        raise op_error(TypeError, op_name, f"{op_name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                       "not Tensor")
    return _tensor_arguments(list(tensors), op_name)


def _tensor_arguments(tensors, op_name):
    """``tensors``, each a Tensor (PyTorch's message names the position in its list argument)."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise op_error(TypeError, op_name, f"expected Tensor as element {i} in argument 0, but got "
                           f"{type(t).__name__}")
    return tensors


@register_op
class Cat:
    """Join tensors along an existing dimension (promoting dtypes; 1-d empty tensors are skipped, as in PyTorch:
    ``skipped`` marks them).

    >>> ember.cat([ember.tensor([[1, 2]]), ember.tensor([[3.0, 4.0]])])
    tensor([[1., 2.],
            [3., 4.]])
    """

    name = "cat"
    names = ("cat", "concat")
    kind = "movement"

    def function(tensors, dim=0, *, out=None):
        tensors = _tensor_list(tensors, "cat")
        if not tensors:
            raise op_error(ValueError, "cat", "torch.cat(): expected a non-empty list of Tensors")
        skipped = tuple(t._data.ndim == 1 and t._data.shape[0] == 0 for t in tensors)
        reference = next((t for t, skip in zip(tensors, skipped) if not skip), None)
        if reference is None:
            result = Cat(*tensors, dim=0, skipped=skipped)
            return result if out is None else write_out(result, out)
        ref_shape = reference._data.shape
        for i, t in enumerate(tensors):
            if t._data.ndim == 0:
                raise op_error(RuntimeError, "cat", f"zero-dimensional tensor (at position {i}) cannot be concatenated")
        d = wrap_dim(dim, len(ref_shape), "cat")
        for i, (t, skip) in enumerate(zip(tensors, skipped)):
            if skip:
                continue
            shape = t._data.shape
            if len(shape) != len(ref_shape):
                raise op_error(RuntimeError, "cat", f"Tensors must have same number of dimensions: got "
                               f"{len(ref_shape)} and {len(shape)}")
            for k in range(len(shape)):
                if k != d and shape[k] != ref_shape[k]:
                    raise op_error(RuntimeError, "cat", f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref_shape[k]} but got size {shape[k]} for tensor number {i} in "
                                   "the list.")
        result = Cat(*tensors, dim=d, skipped=skipped)
        return result if out is None else write_out(result, out)

    def forward(ctx, *arrays, dim, skipped):
        ctx.sizes = [a.shape[dim] for a, skip in zip(arrays, skipped) if not skip]
        ctx.dim = dim
        ctx.skipped = skipped
        kept = [a for a, skip in zip(arrays, skipped) if not skip]
        if not kept:
            return np.empty((0,), dtype=arrays[0].dtype) if arrays else np.empty((0,), np.float32)
        return np.concatenate(kept, axis=dim)

    def backward(ctx, grad):
        parts = iter(SplitWithSizes.function(grad, ctx.sizes, ctx.dim)) if ctx.sizes else iter(())
        return tuple(from_array(np.zeros((0,), grad._data.dtype)) if skip else next(parts) for skip in ctx.skipped)


@register_function
def concatenate(tensors, axis=0, out=None):
    """:func:`cat` with NumPy's argument name.

    >>> ember.concatenate([ember.zeros(1), ember.ones(1)], axis=0)
    tensor([0., 1.])
    """
    return Cat.function(tensors, axis, out=out)


@register_op
class Stack:
    """Join same-shaped tensors along a new dimension.

    >>> ember.stack([ember.tensor([1, 2]), ember.tensor([3, 4])], dim=1)
    tensor([[1, 3],
            [2, 4]])
    """

    name = "stack"
    kind = "movement"

    def function(tensors, dim=0, *, out=None):
        tensors = _tensor_list(tensors, "stack")
        if not tensors:
            raise op_error(RuntimeError, "stack", "stack expects a non-empty TensorList")
        shape = tensors[0]._data.shape
        for i, t in enumerate(tensors[1:], 1):
            if t._data.shape != shape:
                raise op_error(RuntimeError, "stack", f"stack expects each tensor to be equal size, but got "
                               f"{list(shape)} at entry 0 and {list(t._data.shape)} at entry {i}")
        result = Stack(*tensors, dim=wrap_dim(dim, len(shape) + 1, "stack"))
        return result if out is None else write_out(result, out)

    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        return np.stack(arrays, axis=dim)

    def backward(ctx, grad):
        return Unbind.function(grad, ctx.dim)


def _atleast(tensors, ndim, op_name):
    if len(tensors) == 1:
        tensors = tensors[0]
        if isinstance(tensors, Tensor):
            return _atleast_one(tensors, ndim)
    return tuple(_atleast_one(t, ndim) for t in tensors)


def _atleast_one(t, ndim):
    shape = t._data.shape
    if len(shape) >= ndim:
        return t
    if ndim == 3 and len(shape) == 2:
        return Reshape(t, shape=shape + (1,))
    if ndim == 3 and len(shape) == 1:
        return Reshape(t, shape=(1,) + shape + (1,))
    return Reshape(t, shape=(1,) * (ndim - len(shape)) + shape)


@register_function
def atleast_1d(*tensors):
    """Tensors with at least one dimension (0-d become shape ``(1,)``).

    >>> ember.atleast_1d(ember.tensor(3))
    tensor([3])
    """
    return _atleast(tensors, 1, "atleast_1d")


@register_function
def atleast_2d(*tensors):
    """Tensors with at least two dimensions (1-d ``(n,)`` become ``(1, n)``).

    >>> ember.atleast_2d(ember.tensor([1, 2])).shape
    ember.Size([1, 2])
    """
    return _atleast(tensors, 2, "atleast_2d")


@register_function
def atleast_3d(*tensors):
    """Tensors with at least three dimensions (``(n,)`` -> ``(1, n, 1)``, ``(m, n)`` -> ``(m, n, 1)``).

    >>> ember.atleast_3d(ember.zeros(2, 3)).shape
    ember.Size([2, 3, 1])
    """
    return _atleast(tensors, 3, "atleast_3d")


@register_function(out=True)
def hstack(tensors):
    """Concatenate column-wise (along dim 0 for 1-d tensors, else dim 1).

    >>> ember.hstack([ember.tensor([1, 2]), ember.tensor([3])])
    tensor([1, 2, 3])
    """
    tensors = atleast_1d(tuple(_tensor_list(tensors, "hstack")))
    return Cat.function(tensors, 0 if tensors and tensors[0]._data.ndim == 1 else 1)


@register_function(names=("vstack", "row_stack"), out=True)
def vstack(tensors):
    """Concatenate row-wise (1-d tensors become rows).

    >>> ember.vstack([ember.tensor([1, 2]), ember.tensor([3, 4])])
    tensor([[1, 2],
            [3, 4]])
    """
    return Cat.function(atleast_2d(tuple(_tensor_list(tensors, "vstack"))), 0)


@register_function(out=True)
def dstack(tensors):
    """Concatenate depth-wise (along dim 2, after :func:`atleast_3d`).

    >>> ember.dstack([ember.tensor([1, 2]), ember.tensor([3, 4])]).shape
    ember.Size([1, 2, 2])
    """
    return Cat.function(atleast_3d(tuple(_tensor_list(tensors, "dstack"))), 2)


@register_function(out=True)
def column_stack(tensors):
    """Stack as columns: 0-d and 1-d tensors become ``(n, 1)`` columns, then concatenate along dim 1.

    >>> ember.column_stack([ember.tensor([1, 2]), ember.tensor([3, 4])])
    tensor([[1, 3],
            [2, 4]])
    """
    columns = [Reshape(t, shape=(t._data.size, 1)) if t._data.ndim <= 1 else t
               for t in _tensor_list(tensors, "column_stack")]
    return Cat.function(columns, 1)


@register_function
def block_diag(*tensors):
    """A block diagonal matrix of ``tensors`` (0-d is a 1x1 block, 1-d ``(n,)`` a 1xn row), in their promoted dtype.

    >>> ember.block_diag(ember.tensor([[1, 2], [3, 4]]), ember.tensor(5))
    tensor([[1, 2, 0],
            [3, 4, 0],
            [0, 0, 5]])
    """
    for i, t in enumerate(_tensor_arguments(tensors, "block_diag")):
        if t._data.ndim > 2:
            raise op_error(RuntimeError, "block_diag", f"torch.block_diag: Input tensors must have 2 or fewer "
                           f"dimensions. Input {i} has {t._data.ndim} dimensions")
    if not tensors:
        return from_array(np.zeros((1, 0), _dt.get_default_dtype().numpy_dtype))
    dtype = _dt.result_type_of(tensors)
    blocks = [Reshape(t, shape=(1, t._data.size)) if t._data.ndim < 2 else t for t in tensors]
    blocks = [b if b._dtype is dtype else b.to(dtype) for b in blocks]
    width = sum(b._data.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:  # each block padded with zeros to the full width: the rows of the result
        cols = b._data.shape[1]
        rows.append(ConstantPad(b, pad=(left, width - left - cols), value=0))
        left += cols
    return Cat.function(rows, 0)


@register_function
def cartesian_prod(*tensors):
    """The cartesian product of 1-d tensors of one dtype: a row per combination, the last tensor varying fastest
    (``itertools.product``); one tensor is returned as it is.

    >>> ember.cartesian_prod(ember.tensor([1, 2]), ember.tensor([3, 4, 5]))
    tensor([[1, 3],
            [1, 4],
            [1, 5],
            [2, 3],
            [2, 4],
            [2, 5]])
    """
    for t in _tensor_arguments(tensors, "cartesian_prod"):
        if t._data.ndim != 1:
            raise op_error(RuntimeError, "cartesian_prod", f"Expect a 1D vector, but got shape {list(t._data.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    if not tensors:
        raise op_error(RuntimeError, "cartesian_prod", "meshgrid expects a non-empty TensorList")
    if any(t._dtype is not tensors[0]._dtype for t in tensors):
        raise op_error(RuntimeError, "cartesian_prod", "meshgrid expects all tensors to have the same dtype")
    shape = tuple(t._data.shape[0] for t in tensors)
    count = math.prod(shape)
    columns = []
    for i, t in enumerate(tensors):  # tensor i along dim i of the grid, flattened
        along = (1,) * i + (shape[i],) + (1,) * (len(shape) - i - 1)
        columns.append(Reshape(Expand(Reshape(t, shape=along), shape=shape), shape=(count,)))
    return Stack.function(columns, 1)


@register_function
def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of a 1-d tensor's elements, one per row, in ``itertools.combinations`` order
    (``itertools.combinations_with_replacement`` with ``with_replacement=True``); ``r=0`` gives an empty tensor.

    >>> ember.combinations(ember.tensor([1, 2, 3]))
    tensor([[1, 2],
            [1, 3],
            [2, 3]])
    """
    if input._data.ndim != 1:
        raise op_error(RuntimeError, "combinations", f"Expect a 1D vector, but got shape {list(input._data.shape)}")
    if r < 0:
        raise op_error(RuntimeError, "combinations", f"Expect a non-negative number, but got {r}")
    if r == 0:
        return from_array(np.empty((0,), input._data.dtype))
    # As PyTorch: element k of each combination from an r-dim grid of the input along dim k, where the grid's index
    # increases (or does not decrease) from dim to dim; so gradients are summed as PyTorch sums them.
    grid = (input._data.shape[0],) * r
    index = np.indices(grid)
    keep = np.ones(grid, dtype=bool)
    for k in range(r - 1):
        keep &= index[k] <= index[k + 1] if with_replacement else index[k] < index[k + 1]
    keep = from_array(keep)
    columns = [MaskedSelect(Expand(Reshape(input, shape=(1,) * k + grid[:1] + (1,) * (r - k - 1)), shape=grid), keep)
               for k in range(r)]
    return Stack.function(columns, 1)


# ------------------------------------------------------------------------------------ splitting
@register_op
class SplitWithSizes:
    """Split into pieces of the given sizes along ``dim`` (views).

    >>> [t.tolist() for t in ember.arange(5).split_with_sizes([2, 3])]
    [[0, 1], [2, 3, 4]]
    """

    name = "split_with_sizes"
    kind = "movement"
    promote = "none"
    view = True
    method = True
    out = False

    def function(input, split_sizes, dim=0):
        d = wrap_dim(dim, input._data.ndim, "split_with_sizes")
        sizes = [int(s) for s in split_sizes]
        length = input._data.shape[d] if input._data.ndim else 1
        if any(s < 0 for s in sizes):
            raise op_error(RuntimeError, "split_with_sizes", "split_with_sizes expects split_sizes have only "
                           f"non-negative entries, but got split_sizes={sizes}")
        if sum(sizes) != length:
            raise op_error(RuntimeError, "split_with_sizes", f"split_with_sizes expects split_sizes to sum exactly to "
                           f"{length} (input tensor's size at dimension {d}), but got split_sizes={sizes}")
        return SplitWithSizes(input, sizes=tuple(sizes), dim=d)

    def forward(ctx, a, sizes, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        outs = []
        start = 0
        for s in sizes:
            outs.append(a[lead + (slice(start, start + s),)])
            start += s
        return tuple(outs)

    def backward(ctx, *grads):
        return Cat.function(grads, ctx.dim)


@register_function(method=True)
def split(tensor, split_size_or_sections, dim=0):
    """Split into chunks of ``split_size`` (the last may be smaller) or of the listed sizes (views).

    >>> [t.tolist() for t in ember.split(ember.arange(5), 2)]
    [[0, 1], [2, 3], [4]]
    """
    if isinstance(split_size_or_sections, (list, tuple)):
        return SplitWithSizes.function(tensor, split_size_or_sections, dim)
    size = int(split_size_or_sections)
    if tensor._data.ndim == 0:
        raise op_error(RuntimeError, "split", "split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, tensor._data.ndim, "split")
    length = tensor._data.shape[d]
    if size < 0:
        raise op_error(RuntimeError, "split", f"split expects split_size be non-negative, but got split_size={size}")
    if size == 0:
        if length != 0:
            raise op_error(RuntimeError, "split", f"split_size can only be 0 if dimension size is 0, but got dimension "
                           f"size of {length}")
        return SplitWithSizes(tensor, sizes=(0,), dim=d)
    count = max((length + size - 1) // size, 1)
    sizes = [size] * (count - 1) + [length - size * (count - 1)]
    return SplitWithSizes(tensor, sizes=tuple(sizes), dim=d)


@register_function(method=True)
def chunk(input, chunks, dim=0):
    """Split into at most ``chunks`` pieces of equal size (the last may be smaller).

    >>> [t.tolist() for t in ember.arange(5).chunk(3)]
    [[0, 1], [2, 3], [4]]
    """
    if chunks <= 0:
        raise op_error(RuntimeError, "chunk", f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input._data.ndim == 0:
        raise op_error(RuntimeError, "chunk", "chunk expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, input._data.ndim, "chunk")
    length = input._data.shape[d]
    size = (length + chunks - 1) // chunks
    if size == 0:
        return SplitWithSizes(input, sizes=(0,) * chunks, dim=d)
    return split(input, size, d)


@register_function(method=True)
def tensor_split(input, indices_or_sections, dim=0):
    """Split into ``n`` nearly equal parts, or at the given indices (views, like ``numpy.array_split``).

    >>> [t.tolist() for t in ember.tensor_split(ember.arange(7), 3)]
    [[0, 1, 2], [3, 4], [5, 6]]
    """
    if input._data.ndim == 0:
        raise op_error(RuntimeError, "tensor_split", "tensor_split expected at least a 1-dimensional tensor, but got "
                       "a tensor with 0 dims")
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections._dtype.name != "int64":
            raise op_error(RuntimeError, "tensor_split", "tensor_split expected tensor_indices_or_sections to have dtype "
                           f"of long, but got {_dt.torch_type_name(indices_or_sections._dtype)}")
        if indices_or_sections._data.ndim > 1:
            raise op_error(RuntimeError, "tensor_split", "tensor_split expected tensor_indices_or_sections to be a "
                           "zero-dimensional or one-dimensional tensor, but got a tensor with "
                           f"{indices_or_sections._data.ndim} dims")
        value = indices_or_sections._data
        indices_or_sections = int(value) if value.ndim == 0 else [int(v) for v in value]
    d = wrap_dim(dim, input._data.ndim, "tensor_split")
    length = input._data.shape[d]
    if isinstance(indices_or_sections, (list, tuple)):
        bounds = [0] + [min(max(int(i) if i >= 0 else length + int(i), 0), length) for i in indices_or_sections]
        bounds.append(length)
        sizes = [max(b - a, 0) for a, b in zip(bounds[:-1], bounds[1:])]
        starts = bounds[:-1]
        lead = (slice(None),) * d
        return tuple(GetItem(input, index=lead + (slice(s, s + n),)) for s, n in zip(starts, sizes))
    sections = int(indices_or_sections)
    if sections <= 0:
        raise op_error(RuntimeError, "tensor_split", f"number of sections must be larger than 0, got {sections}")
    base, extra = divmod(length, sections)
    sizes = [base + 1] * extra + [base] * (sections - extra)
    return SplitWithSizes(input, sizes=tuple(sizes), dim=d)


@register_op
class Unbind:
    """The slices along ``dim`` as a tuple of views.

    >>> ember.tensor([[1, 2], [3, 4]]).unbind(1)
    (tensor([1, 3]), tensor([2, 4]))
    """

    name = "unbind"
    kind = "movement"
    promote = "none"
    view = True
    method = True
    out = False

    def function(input, dim=0):
        if input._data.ndim == 0:
            raise op_error(IndexError, "unbind", "Dimension specified as 0 but tensor has no dimensions")
        return Unbind(input, dim=wrap_dim(dim, input._data.ndim, "unbind"))

    def forward(ctx, a, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(a[lead + (i, Ellipsis)] for i in range(a.shape[dim]))

    def backward(ctx, *grads):
        if not grads:
            return None
        return Stack(*grads, dim=ctx.dim)


# ------------------------------------------------------------------------------------ reshaping helpers
@register_function(names=("movedim", "moveaxis"), method=True)
def movedim(input, source, destination):
    """Move dimensions ``source`` to positions ``destination`` (a view); others keep their order.

    >>> ember.zeros(2, 3, 4).movedim(0, -1).shape
    ember.Size([3, 4, 2])
    """
    ndim = input._data.ndim
    src = (source,) if not isinstance(source, (tuple, list)) else tuple(source)
    dst = (destination,) if not isinstance(destination, (tuple, list)) else tuple(destination)
    if len(src) != len(dst):
        raise op_error(RuntimeError, "movedim", f"movedim: Invalid source or destination dims: source ({list(src)} "
                       f"dims) should contain the same number of dims as destination ({list(dst)} dims)")
    src = tuple(wrap_dim(d, ndim, "movedim") for d in src)
    dst = tuple(wrap_dim(d, ndim, "movedim") for d in dst)
    if len(set(src)) != len(src):
        raise op_error(RuntimeError, "movedim", f"movedim: repeated dim in `source` ({list(source)})")
    if len(set(dst)) != len(dst):
        raise op_error(RuntimeError, "movedim", f"movedim: repeated dim in `destination` ({list(destination)})")
    order = [d for d in range(ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    if ndim == 0:
        return _alias(input) if not input._requires_grad else Reshape(input, shape=())
    return Permute(input, dims=tuple(order))


@register_function(method=True)
def unflatten(input, dim, sizes):
    """Expand dimension ``dim`` into ``sizes`` (one entry may be -1).

    >>> ember.zeros(2, 6).unflatten(1, (2, -1)).shape
    ember.Size([2, 2, 3])
    """
    shape = input._data.shape
    d = wrap_dim(dim, len(shape), "unflatten")
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise op_error(RuntimeError, "unflatten", "unflatten: sizes must be non-empty")
    length = shape[d] if shape else 1
    known = 1
    for s in sizes:
        if s != -1:
            known *= s
    if sizes.count(-1) > 1:
        raise op_error(RuntimeError, "unflatten", "only one dimension can be inferred")
    if -1 in sizes:
        if known == 0 or length % known:
            raise op_error(RuntimeError, "unflatten", f"unflatten: Provided sizes {list(sizes)} don't multiply up to "
                           f"the size of dim {dim} ({length}) in the input tensor")
        sizes = tuple(length // known if s == -1 else s for s in sizes)
    elif known != length:
        raise op_error(RuntimeError, "unflatten", f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                       f"size of dim {dim} ({length}) in the input tensor")
    return Reshape(input, shape=shape[:d] + sizes + shape[d + 1:])


@register_function
def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to.

    >>> ember.broadcast_shapes((2, 1), (3,))
    ember.Size([2, 3])
    """
    from ember.size import Size
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    ndim = max((len(s) for s in shapes), default=0)
    result = [1] * ndim
    for index, s in enumerate(shapes):
        for i in range(1, len(s) + 1):
            size = s[-i]
            if size < 0:
                raise op_error(RuntimeError, "broadcast_shapes", f"Trying to create tensor with negative dimension "
                               f"{size}: {list(s)}")
            if result[-i] == 1:
                result[-i] = size
            elif size != 1 and size != result[-i]:
                raise op_error(RuntimeError, "broadcast_shapes", f"Attempting to broadcast a dimension of length {size} "
                               f"at -{i}! Mismatching argument at index {index} had {tuple(s)}; but expected shape "
                               f"should be broadcastable to {result}")
    return Size(result)


@register_function(method=True)
def broadcast_to(input, size):
    """``input.expand(size)``.

    >>> ember.broadcast_to(ember.tensor([1, 2]), (2, 2))
    tensor([[1, 2],
            [1, 2]])
    """
    return Expand.function(input, size)


@register_function
def broadcast_tensors(*tensors):
    """Expand tensors to their common broadcast shape (views).

    >>> [t.shape for t in ember.broadcast_tensors(ember.zeros(2, 1), ember.zeros(3))]
    [ember.Size([2, 3]), ember.Size([2, 3])]
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shapes = [t._data.shape for t in tensors]
    try:
        target = tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        from ember.errors import broadcast_message
        raise op_error(RuntimeError, "broadcast_tensors", broadcast_message(shapes)) from None
    return tuple(Expand.function(t, target) for t in tensors)


# ------------------------------------------------------------------------------------ repeating
@register_op
class Repeat:
    """Tile ``input`` ``sizes[i]`` times along each dimension (leading new dimensions allowed); a Tensor method
    only, as in PyTorch (``ember.tile`` is the function).

    >>> ember.tensor([1, 2]).repeat(2, 2)
    tensor([[1, 2, 1, 2],
            [1, 2, 1, 2]])
    """

    name = "repeat"
    names = ("Tensor.repeat",)  # a Tensor method only, as in PyTorch
    kind = "movement"
    promote = "none"
    out = False

    def function(input, *sizes):
        repeats = as_shape(sizes, "repeat") if sizes else ()
        if len(repeats) < input._data.ndim:
            raise op_error(RuntimeError, "repeat", "Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
        for r in repeats:
            if r < 0:
                shape = (1,) * (len(repeats) - input._data.ndim) + input._data.shape
                raise op_error(RuntimeError, "repeat", f"Trying to create tensor with negative dimension {r}: "
                               f"{[s * q for s, q in zip(shape, repeats)]}")
        return Repeat(input, repeats=repeats)

    def forward(ctx, a, repeats):
        ctx.repeats = repeats
        lead = len(repeats) - a.ndim
        return np.tile(a.reshape((1,) * lead + a.shape), repeats)

    def backward(ctx, grad):
        shape, _ = ctx.input_meta[0]
        repeats = ctx.repeats
        full = (1,) * (len(repeats) - len(shape)) + tuple(shape)
        interleaved = []
        for r, s in zip(repeats, full):
            interleaved += [r, s]
        from ember.ops.reduce import Sum
        summed = Sum.function(grad.reshape(interleaved), tuple(range(0, 2 * len(full), 2)))
        return summed.reshape(shape)


@register_function(method=True)
def tile(input, dims):
    """Repeat along dimensions; ``dims`` shorter than ``input.ndim`` is padded with leading ones.

    >>> ember.tile(ember.tensor([[1, 2]]), (2,))
    tensor([[1, 2, 1, 2]])
    """
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return Repeat.function(input, dims)


@register_op
class RepeatInterleave:
    """Repeat each element ``repeats`` times (an int, or a count per element along ``dim``); ``numpy.repeat``.

    With ``dim=None`` the input is flattened. ``repeat_interleave(counts)`` alone returns
    ``arange(len(counts))`` repeated by ``counts``.

    >>> ember.tensor([1, 2]).repeat_interleave(2)
    tensor([1, 1, 2, 2])
    >>> ember.repeat_interleave(ember.tensor([[1, 2]]), ember.tensor([1, 2]), dim=1)
    tensor([[1, 2, 2]])
    """

    name = "repeat_interleave"
    kind = "movement"
    promote = "none"
    method = True
    out = False

    def function(input, repeats=None, dim=None, *, output_size=None):
        if repeats is None:
            counts = input
            if counts._data.ndim > 1 or counts._dtype.category != 1:
                raise op_error(RuntimeError, "repeat_interleave", "repeat_interleave only accept 1D vector as repeat")
            if (counts._data < 0).any():
                raise op_error(RuntimeError, "repeat_interleave", "repeats can not be negative")
            return from_array(np.repeat(np.arange(counts._data.size, dtype=np.int64), counts._data.reshape(-1)))
        if dim is None:
            input = Reshape(input, shape=(input._data.size,))
            d = 0
        else:
            d = wrap_dim(dim, input._data.ndim, "repeat_interleave")
            if input._data.ndim == 0:
                input = Reshape(input, shape=(1,))
        length = input._data.shape[d]
        if isinstance(repeats, Tensor):
            if repeats._data.ndim > 1:
                raise op_error(RuntimeError, "repeat_interleave", "repeats must be 0-dim or 1-dim tensor")
            if repeats._dtype.category != 1:
                raise op_error(RuntimeError, "repeat_interleave", "repeats has to be Long or Int tensor")
            counts = repeats._data.astype(np.int64).reshape(-1)
            if counts.size == 1:
                repeats = int(counts[0])
            elif counts.size != length:
                raise op_error(RuntimeError, "repeat_interleave", f"repeats must have the same size as input along "
                               f"dim, but got repeats.size(0) = {counts.size} and input.size({d}) = {length}")
            else:
                if (counts < 0).any():
                    raise op_error(RuntimeError, "repeat_interleave", "repeats can not be negative")
                if output_size is not None and int(counts.sum()) != output_size:
                    raise op_error(RuntimeError, "repeat_interleave", "allocated size does not match required size")
                return RepeatInterleave(input, repeats=counts, dim=d)
        repeats = int(repeats)
        if repeats < 0:
            raise op_error(RuntimeError, "repeat_interleave", "repeats can not be negative")
        if output_size is not None and repeats * length != output_size:
            raise op_error(RuntimeError, "repeat_interleave", "allocated size does not match required size")
        return RepeatInterleave(input, repeats=repeats, dim=d)

    def forward(ctx, a, repeats, dim):
        ctx.repeats = repeats
        ctx.dim = dim
        return np.repeat(a, repeats, axis=dim)

    def backward(ctx, grad):
        shape, _ = ctx.input_meta[0]
        dim = ctx.dim
        repeats = ctx.repeats
        if isinstance(repeats, int):
            grad_shape = grad._data.shape
            split_shape = grad_shape[:dim] + (shape[dim], repeats) + grad_shape[dim + 1:]
            from ember.ops.reduce import Sum
            return Sum.function(grad.reshape(split_shape), dim + 1)
        owners = from_array(np.repeat(np.arange(shape[dim], dtype=np.int64), repeats))
        zeros = from_array(np.zeros(shape, dtype=grad._data.dtype))
        return IndexAdd(zeros, owners, grad, dim=dim, alpha=1)


# ------------------------------------------------------------------------------------ reordering
@register_op
class Flip:
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch).

    >>> ember.tensor([[1, 2], [3, 4]]).flip(1)
    tensor([[2, 1],
            [4, 3]])
    """

    name = "flip"
    kind = "movement"
    promote = "none"
    method = True
    out = False

    def function(input, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        wrapped = tuple(wrap_dim(d, input._data.ndim, "flip") for d in dims)
        for i, d in enumerate(wrapped):
            if d in wrapped[:i]:
                raise op_error(RuntimeError, "flip", f"dim {d} appears multiple times in the list of dims")
        return Flip(input, dims=wrapped)

    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.flip(a, dims).copy() if dims else a.copy()

    def backward(ctx, grad):
        return Flip(grad, dims=ctx.dims)


@register_function(method=True)
def fliplr(input):
    """Flip left-right (dim 1); needs at least 2 dimensions.

    >>> ember.fliplr(ember.tensor([[1, 2]]))
    tensor([[2, 1]])
    """
    if input._data.ndim < 2:
        raise op_error(RuntimeError, "fliplr", "Input must be >= 2-d.")
    return Flip(input, dims=(1,))


@register_function(method=True)
def flipud(input):
    """Flip up-down (dim 0); needs at least 1 dimension.

    >>> ember.flipud(ember.tensor([1, 2]))
    tensor([2, 1])
    """
    if input._data.ndim < 1:
        raise op_error(RuntimeError, "flipud", "Input must be >= 1-d.")
    return Flip(input, dims=(0,))


@register_function(method=True)
def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the second).

    >>> ember.rot90(ember.tensor([[1, 2], [3, 4]]))
    tensor([[2, 4],
            [1, 3]])
    """
    dims = tuple(dims)
    ndim = input._data.ndim
    if len(dims) != 2:
        raise op_error(RuntimeError, "rot90", f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if ndim < 2:
        raise op_error(RuntimeError, "rot90", f"expected total dims >= 2, but got total dims = {ndim}")
    d0, d1 = wrap_dim(dims[0], ndim, "rot90"), wrap_dim(dims[1], ndim, "rot90")
    if d0 == d1:
        raise op_error(RuntimeError, "rot90", f"expected rotation dims to be different, but got dim0 = {d0} and "
                       f"dim1 = {d1}")
    k = k % 4
    if k == 1:
        return Transpose(Flip(input, dims=(d1,)), dim0=d0, dim1=d1)
    if k == 2:
        return Flip(input, dims=(d0, d1))
    if k == 3:
        return Flip(Transpose(input, dim0=d0, dim1=d1), dims=(d1,))
    return Clone(input)


@register_op
class Roll:
    """Shift elements cyclically along ``dims`` (or over the flattened tensor when ``dims`` is None).

    >>> ember.roll(ember.tensor([1, 2, 3, 4]), 1)
    tensor([4, 1, 2, 3])
    """

    name = "roll"
    kind = "movement"
    promote = "none"
    method = True
    out = False

    def function(input, shifts, dims=None):
        shifts = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
        if dims is None:
            if len(shifts) != 1:
                raise op_error(RuntimeError, "roll", f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
            return Roll(input, shifts=shifts[0], dims=None)
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        if not shifts:
            raise op_error(RuntimeError, "roll", "`shifts` required")
        if len(shifts) != len(dims):
            raise op_error(RuntimeError, "roll", f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
        dims = tuple(wrap_dim(d, input._data.ndim, "roll") for d in dims)
        return Roll(input, shifts=shifts, dims=dims)

    def forward(ctx, a, shifts, dims):
        ctx.shifts = shifts
        ctx.dims = dims
        if dims is None:
            return np.roll(a.reshape(-1), shifts).reshape(a.shape)
        return np.roll(a, shifts, dims)

    def backward(ctx, grad):
        negated = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return Roll(grad, shifts=negated, dims=ctx.dims)


@register_function(method=True, out=True)
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (``x[i + 1] - x[i]``; ``!=`` for bool), after joining
    ``prepend`` and ``append`` (tensors shaped like ``input`` but along ``dim``) to ``input``.

    >>> ember.diff(ember.tensor([1, 3, 6, 10]))
    tensor([2, 3, 4])
    >>> ember.diff(ember.tensor([[1, 3, 6]]), n=2, prepend=ember.tensor([[0]]))
    tensor([[1, 1]])
    """
    ndim = input._data.ndim
    if ndim == 0:
        raise op_error(RuntimeError, "diff", "diff expects input to be at least one-dimensional")
    if not isinstance(n, int):
        raise op_error(TypeError, "diff", f"diff(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise op_error(RuntimeError, "diff", f"order must be non-negative but got {n}")
    d = wrap_dim(dim, ndim, "diff")
    for name, other in (("prepend", prepend), ("append", append)):
        if other is None:
            continue
        require_tensor("diff", other, name)
        if other._data.ndim != ndim:
            raise op_error(RuntimeError, "diff", "diff expects prepend or append to be the same dimension as input")
        for i, (mine, theirs) in enumerate(zip(input._data.shape, other._data.shape)):
            if i != d and mine != theirs:
                raise op_error(RuntimeError, "diff", "diff expects the shape of tensor to prepend or append to match "
                               f"that of input except along the differencing dimension; input.size({i}) = {mine}, but "
                               f"got tensor.size({i}) = {theirs}")
    if n == 0:  # PyTorch ignores prepend and append here
        return Clone(input)
    if prepend is not None or append is not None:
        input = Cat.function([t for t in (prepend, input, append) if t is not None], d)
    lead = (slice(None),) * d
    result = input
    for _ in range(min(n, input._data.shape[d])):
        length = result._data.shape[d] - 1
        later = GetItem(result, index=lead + (slice(1, 1 + length),))
        earlier = GetItem(result, index=lead + (slice(0, length),))
        result = Ne(later, earlier) if result._dtype is _dt.bool else Sub(later, earlier)
    return result


# ------------------------------------------------------------------------------------ triangles and diagonals
def _triangle(op_name, keep, doc):
    """Register ``tril`` or ``triu``: ``keep`` (``numpy.tril``/``numpy.triu``) zeroes the elements on the other side
    of ``diagonal`` in the last two dimensions; the gradient is the same triangle of the incoming gradient."""

    def function(input, diagonal=0):
        if input._data.ndim < 2:
            raise op_error(RuntimeError, op_name, f"{op_name}: input tensor must have at least 2 dimensions")
        return op(input, diagonal=int(diagonal))

    def inplace(self, diagonal=0):
        if self._data.ndim < 2:
            raise op_error(RuntimeError, op_name + "_", f"{op_name}: input tensor must have at least 2 dimensions")
        return apply_inplace(op, self, diagonal=int(diagonal))

    def forward(ctx, a, diagonal):
        ctx.diagonal = diagonal
        return keep(a, diagonal)

    def backward(ctx, grad):
        return op(grad, diagonal=ctx.diagonal)

    op = register_op(type(op_name.title(), (), {
        "__doc__": doc, "name": op_name, "kind": "movement", "promote": "none", "method": True, "function": function,
        "inplace": inplace, "forward": forward, "backward": backward, "__module__": __name__}))
    return op


Tril = _triangle("tril", np.tril, """The lower triangle of the last two dimensions (elements above ``diagonal`` set to
    zero).

    >>> ember.tril(ember.ones(2, 2))
    tensor([[1., 0.],
            [1., 1.]])
    """)
Triu = _triangle("triu", np.triu, """The upper triangle of the last two dimensions (elements below ``diagonal`` set to
    zero).

    >>> ember.triu(ember.ones(2, 2))
    tensor([[1., 1.],
            [0., 1.]])
    """)


def _diagonal_of(a, offset, dim1, dim2):
    """A writable NumPy view of a diagonal (``numpy.diagonal`` returns a read-only one)."""
    m = np.moveaxis(a, (dim1, dim2), (-2, -1))
    m = m[..., :, offset:] if offset >= 0 else m[..., -offset:, :]
    n = max(min(m.shape[-2], m.shape[-1]), 0)
    strides = m.strides[:-2] + (m.strides[-2] + m.strides[-1],)
    return np.lib.stride_tricks.as_strided(m, m.shape[:-2] + (n,), strides)


@register_op
class Diagonal:
    """The diagonal of the ``dim1``/``dim2`` planes, appended as the last dimension (a view).

    >>> ember.arange(9).reshape(3, 3).diagonal(1)
    tensor([1, 5])
    """

    name = "diagonal"
    kind = "movement"
    promote = "none"
    view = True
    method = True
    out = False

    def function(input, offset=0, dim1=0, dim2=1):
        ndim = input._data.ndim
        d1, d2 = wrap_dim(dim1, ndim, "diagonal"), wrap_dim(dim2, ndim, "diagonal")
        if d1 == d2:
            raise op_error(RuntimeError, "diagonal", f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        return Diagonal(input, offset=int(offset), dim1=d1, dim2=d2)

    def forward(ctx, a, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        return _diagonal_of(a, offset, dim1, dim2)

    def backward(ctx, grad):
        return DiagEmbed(grad, shape=ctx.input_meta[0][0], offset=ctx.args[0], dim1=ctx.args[1], dim2=ctx.args[2])


@register_op
class DiagEmbed:
    """Place the last dimension of ``input`` on the diagonal of new ``dim1``/``dim2`` planes.

    >>> ember.diag_embed(ember.tensor([1, 2]))
    tensor([[1, 0],
            [0, 2]])
    """

    name = "diag_embed"
    kind = "movement"
    promote = "none"
    method = True
    out = False

    def function(input, offset=0, dim1=-2, dim2=-1):
        ndim = input._data.ndim + 1
        d1, d2 = wrap_dim(dim1, ndim, "diag_embed"), wrap_dim(dim2, ndim, "diag_embed")
        if d1 == d2:
            raise op_error(RuntimeError, "diag_embed", f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        size = (input._data.shape[-1] if input._data.ndim else 1) + abs(int(offset))
        rest = list(input._data.shape[:-1])
        shape = []
        for i in range(ndim):
            shape.append(size if i in (d1, d2) else rest.pop(0))
        src = input if input._data.ndim else Reshape(input, shape=(1,))
        return DiagEmbed(src, shape=tuple(shape), offset=int(offset), dim1=d1, dim2=d2)

    def forward(ctx, a, shape, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        out = np.zeros(shape, dtype=a.dtype)
        _diagonal_of(out, offset, dim1, dim2)[...] = a
        return out

    def backward(ctx, grad):
        return Diagonal(grad, offset=ctx.args[0], dim1=ctx.args[1], dim2=ctx.args[2])


@register_function(method=True, out=True)
def diag(input, diagonal=0):
    """A 1-d tensor's values on a square matrix's diagonal, or a 2-d tensor's diagonal as a 1-d copy.

    >>> ember.diag(ember.tensor([1, 2]))
    tensor([[1, 0],
            [0, 2]])
    >>> ember.diag(ember.tensor([[1, 2], [3, 4]]))
    tensor([1, 4])
    """
    ndim = input._data.ndim
    if ndim == 1:
        return DiagEmbed.function(input, diagonal, 0, 1)
    if ndim == 2:
        return Clone(Diagonal(input, offset=int(diagonal), dim1=0, dim2=1))
    raise op_error(RuntimeError, "diag", f"diag(): Supports 1D or 2D tensors. Got {ndim}D")


@register_function(method=True)
def diagflat(input, offset=0):
    """A square matrix with the flattened ``input`` on its diagonal (``offset`` above it, or below when negative).

    >>> ember.diagflat(ember.tensor([[1, 2], [3, 4]]), 1)
    tensor([[0, 1, 0, 0, 0],
            [0, 0, 2, 0, 0],
            [0, 0, 0, 3, 0],
            [0, 0, 0, 0, 4],
            [0, 0, 0, 0, 0]])
    """
    if not isinstance(offset, int):
        raise op_error(TypeError, "diagflat", f"diagflat(): argument 'offset' (position 2) must be int, not "
                       f"{type(offset).__name__}")
    return DiagEmbed.function(Reshape.function(input, -1), offset, 0, 1)


# ------------------------------------------------------------------------------------ slicing views
@register_function(method=True)
def narrow(input, dim, start, length):
    """``length`` elements along ``dim`` starting at ``start`` (a view; ``start`` may be a 0-d tensor).

    >>> ember.arange(6).reshape(2, 3).narrow(1, 1, 2)
    tensor([[1, 2],
            [4, 5]])
    """
    if input._data.ndim == 0:
        raise op_error(RuntimeError, "narrow", "narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input._data.ndim, "narrow")
    size = input._data.shape[d]
    start = int(start)
    length = int(length)
    if length < 0:
        raise op_error(RuntimeError, "narrow", "narrow(): length must be non-negative.")
    if start < -size or start > size:
        raise op_error(IndexError, "narrow", f"start out of range (expected to be in range of [{-size}, {size}], but "
                       f"got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise op_error(RuntimeError, "narrow", f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return GetItem(input, index=(slice(None),) * d + (slice(start, start + length),))


@register_function(method=True)
def select(input, dim, index):
    """The slice at ``index`` along ``dim``, with that dimension removed (a view).

    >>> ember.arange(6).reshape(2, 3).select(1, -1)
    tensor([2, 5])
    """
    if input._data.ndim == 0:
        raise op_error(IndexError, "select", "select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input._data.ndim, "select")
    size = input._data.shape[d]
    index = int(index)
    if index < -size or index >= size:
        raise op_error(IndexError, "select", f"select(): index {index} out of range for tensor of size "
                       f"{list(input._data.shape)} at dimension {d}")
    return GetItem(input, index=(slice(None),) * d + (index,))


@register_op
class Unfold:
    """All windows of ``size`` elements taken every ``step`` along ``dimension`` (a view).

    >>> ember.arange(5).unfold(0, 2, 2)
    tensor([[0, 1],
            [2, 3]])
    """

    name = "unfold"
    names = ("Tensor.unfold",)  # a Tensor method only: torch.nn.functional.unfold is im2col (convolution.py)
    kind = "movement"
    promote = "none"
    view = True
    out = False

    def function(input, dimension, size, step):
        ndim = input._data.ndim
        d = wrap_dim(dimension, ndim, "unfold")
        length = input._data.shape[d] if ndim else 1
        if size > length:
            raise op_error(RuntimeError, "unfold", f"maximum size for tensor at dimension {d} is {length} but size is "
                           f"{size}")
        if size < 0:
            raise op_error(RuntimeError, "unfold", f"size is {size} but must be >= 0")
        if step <= 0:
            raise op_error(RuntimeError, "unfold", f"step is {step} but must be > 0")
        return Unfold(input, dim=d, size=int(size), step=int(step))

    def forward(ctx, a, dim, size, step):
        ctx.args = (dim, size, step)
        if a.ndim == 0:
            return a.reshape(1)
        # Overlapping windows alias memory: read-only, so in-place writes fail as in PyTorch.
        writeable = a.flags.writeable and step >= size
        windows = np.lib.stride_tricks.sliding_window_view(a, size, axis=dim, writeable=writeable)
        return windows[(slice(None),) * dim + (slice(None, None, step),)]

    def backward(ctx, grad):
        return UnfoldBackward(grad, shape=ctx.input_meta[0][0], dim=ctx.args[0], size=ctx.args[1], step=ctx.args[2])


@register_op
class UnfoldBackward:
    """Sum each window's gradient back onto the positions it covered."""

    name = "unfold_backward"
    kind = "movement"
    promote = "none"

    def forward(ctx, grad, shape, dim, size, step):
        ctx.args = (dim, size, step)
        out = np.zeros(shape, dtype=grad.dtype)
        if not shape:
            return grad.reshape(())
        count = grad.shape[dim]
        lead = (slice(None),) * dim
        for j in range(size):
            out[lead + (slice(j, j + step * (count - 1) + 1, step),)] += grad[..., j]
        return out

    def backward(ctx, grad):
        return Unfold(grad, dim=ctx.args[0], size=ctx.args[1], step=ctx.args[2])


def _root_of(a):
    """The NumPy array that owns ``a``'s memory (PyTorch's storage)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


@register_op
class AsStrided:
    """A view of ``input``'s storage with the given sizes and strides (in elements).

    >>> ember.arange(6).as_strided((2, 2), (1, 2))
    tensor([[0, 2],
            [1, 3]])
    """

    name = "as_strided"
    kind = "movement"
    promote = "none"
    view = True
    method = True
    out = False

    def function(input, size, stride, storage_offset=None):
        storage = _root_of(input._data)
        if not storage.flags.c_contiguous:
            raise op_error(RuntimeError, "as_strided", "as_strided needs a tensor whose storage is contiguous; call "
                           ".contiguous() first")
        size = tuple(int(s) for s in size)
        stride = tuple(int(s) for s in stride)
        if len(size) != len(stride):
            raise op_error(RuntimeError, "as_strided", f"mismatch in length of strides and shape: {len(size)} sizes "
                           f"and {len(stride)} strides")
        if storage_offset is None:
            item = input._data.itemsize
            storage_offset = (input._data.__array_interface__["data"][0]
                              - storage.__array_interface__["data"][0]) // item
        needed = storage_offset + _extent(size, stride)
        if needed > storage.size and _extent(size, stride):
            raise op_error(RuntimeError, "as_strided", f"setStorage: sizes {list(size)}, strides {list(stride)}, "
                           f"storage offset {storage_offset}, and itemsize {storage.itemsize} requiring a storage size of "
                           f"{needed * storage.itemsize} are out of bounds for storage of size "
                           f"{storage.size * storage.itemsize}")
        return AsStrided(input, size=size, stride=stride, offset=int(storage_offset))

    def forward(ctx, a, size, stride, offset):
        storage = _root_of(a)
        if ctx.__class__ is not _Scratch:
            ctx.positions = (_storage_positions(a, storage), size, stride, offset)
        flat = storage.reshape(-1)
        return np.lib.stride_tricks.as_strided(flat[offset:], size, tuple(s * a.itemsize for s in stride),
                                               writeable=flat.flags.writeable)

    def backward(ctx, grad):
        own, size, stride, offset = ctx.positions
        # Map each storage position read by the output back to the input element that lives there.
        lookup = np.full(max(int(own.max(initial=-1)) + 1, offset + _extent(size, stride)), -1, dtype=np.int64)
        lookup[own.reshape(-1)] = np.arange(own.size)
        read = lookup[offset + _element_offsets(size, stride)].reshape(-1)
        shape, _ = ctx.input_meta[0]
        flat_grad = grad.reshape(-1)
        keep = read >= 0
        if not keep.all():
            flat_grad = flat_grad[from_array(np.nonzero(keep)[0])]
            read = read[keep]
        zeros = from_array(np.zeros(own.size, dtype=grad._data.dtype))
        return IndexAdd(zeros, from_array(read), flat_grad, dim=0, alpha=1).reshape(shape)


def _element_offsets(size, stride):
    offsets = np.zeros((), dtype=np.int64)
    for n, s in zip(size, stride):
        offsets = offsets[..., None] + np.arange(n, dtype=np.int64) * s
    return offsets


def _extent(size, stride):
    if any(n == 0 for n in size):
        return 0
    return 1 + sum((n - 1) * s for n, s in zip(size, stride))


def _storage_positions(a, storage):
    """Element offsets of each element of ``a`` inside ``storage``'s memory."""
    item = a.itemsize
    start = (a.__array_interface__["data"][0] - storage.__array_interface__["data"][0]) // item
    return start + _element_offsets(a.shape, tuple(s // item for s in a.strides))


# ------------------------------------------------------------------------------------ padding
@register_op
class ConstantPad:
    """``F.pad`` in constant mode; negative amounts crop."""

    name = "constant_pad_nd"
    kind = "movement"
    promote = "none"

    def forward(ctx, a, pad, value):
        ctx.pad = pad
        ndim = a.ndim
        source, target, shape = [], [], []
        for d in range(ndim):
            k = ndim - 1 - d
            left, right = (pad[2 * k], pad[2 * k + 1]) if 2 * k + 1 < len(pad) else (0, 0)
            size = a.shape[d]
            shape.append(size + left + right)
            source.append(slice(max(-left, 0), size - max(-right, 0)))
            target.append(slice(max(left, 0), max(left, 0) + size - max(-left, 0) - max(-right, 0)))
        out = np.full(shape, value, dtype=a.dtype)
        out[tuple(target)] = a[tuple(source)]
        return out

    def backward(ctx, grad):
        return ConstantPad(grad, pad=tuple(-p for p in ctx.pad), value=0)


def _pad_index(size, left, right, mode):
    """For one padded dimension: which input position each output position reads."""
    out = np.arange(size + left + right, dtype=np.int64)
    if mode == "circular":
        start = max(-left, 0)
        length = size - start - max(-right, 0)
        return (out - max(left, 0)) % length + start
    in_start, out_start = max(0, -left), max(0, left)
    if mode == "reflect":
        positions = np.where(out < left, 2 * left - out, np.where(out < size + left, out, 2 * (size + left - 1) - out))
    else:
        positions = np.clip(out, left, size + left - 1)
    return positions - out_start + in_start


_PAD_DIMS_HELP = ("Supported combinations for non-constant padding:\n"
                  "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                  "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                  "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


@register_function(functional="only")
def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative amounts, crop) ``input``; ``pad`` lists (left, right) pairs from the last dim back.

    Modes: ``"constant"`` (with ``value``, default 0), ``"reflect"``, ``"replicate"``, ``"circular"``.

    >>> import ember.nn.functional as F
    >>> F.pad(ember.tensor([[1, 2, 3]]), (1, 2))
    tensor([[0, 1, 2, 3, 0, 0]])
    >>> F.pad(ember.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
    tensor([[3., 2., 1., 2., 3., 2.]])
    """
    pad = tuple(int(p) for p in pad)
    ndim = input._data.ndim
    if len(pad) % 2:
        raise op_error(RuntimeError, "pad", "Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise op_error(RuntimeError, "pad", f"Padding length should be less than or equal to two times the input "
                       f"dimension but got padding length {len(pad)} and input of dimension {ndim}")
    if mode == "constant":
        shape = input._data.shape
        for i in range(len(pad) // 2):
            d = ndim - 1 - i
            if shape[d] + pad[2 * i] + pad[2 * i + 1] < 0:
                raise op_error(RuntimeError, "pad", "narrow(): length must be non-negative.")
        if not pad:
            return Clone(input)
        return ConstantPad(input, pad=pad, value=0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise op_error(NotImplementedError, "pad", f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise op_error(RuntimeError, "pad", f'Padding mode "{mode}" doesn\'t take in value argument')
    padded = len(pad) // 2
    if padded not in (1, 2, 3) or ndim not in (padded + 1, padded + 2):
        raise op_error(NotImplementedError, "pad", f"Padding size {len(pad)} is not supported for {ndim}D input "
                       f"tensor.\n{_PAD_DIMS_HELP}")
    shape = input._data.shape
    batch_free = shape[1:] if ndim == padded + 2 else shape
    if 0 in batch_free:
        raise op_error(RuntimeError, "pad", f"Expected {padded + 1}D or {padded + 2}D (batch mode) tensor with possibly "
                       f"0 batch size and other non-zero dimensions for input, but got: {list(shape)}")
    result = input
    for i in range(padded):
        d = ndim - 1 - i
        left, right = pad[2 * i], pad[2 * i + 1]
        size = shape[d]
        if mode == "reflect" and (left >= size or right >= size):
            raise op_error(RuntimeError, "pad", f"Argument #4: Padding size should be less than the corresponding input "
                           f"dimension, but got: padding ({left}, {right}) at dimension {d} of input {list(shape)}")
        if mode == "circular" and (left > size or right > size):
            raise op_error(RuntimeError, "pad", "Padding value causes wrapping around more than once.")
        if size + left + right < 0:
            raise op_error(RuntimeError, "pad", f"input tensor is too small for padding ({left}, {right}) at dimension "
                           f"{d} of input {list(shape)}")
        if left == 0 and right == 0:
            continue
        result = IndexSelect(result, from_array(_pad_index(size, left, right, mode)), dim=d)
    return result if result is not input else Clone(input)
