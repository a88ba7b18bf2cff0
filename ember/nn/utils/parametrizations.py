"""Ready-made parametrizations (``torch.nn.utils.parametrizations``): orthogonal, weight_norm, spectral_norm.

Each registers a parametrization with :func:`ember.nn.utils.parametrize.register_parametrization`, so the weight is
recomputed on every access and the state dict uses torch's ``parametrizations.weight.*`` keys.

>>> import ember
>>> from ember.nn.utils import parametrizations
>>> layer = parametrizations.weight_norm(ember.nn.Linear(3, 2))
>>> list(layer.state_dict())
['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
>>> q = parametrizations.orthogonal(ember.nn.Linear(3, 3)).weight
>>> bool(((q @ q.T) - ember.eye(3)).abs().max() < 1e-5)
True
"""

from __future__ import annotations

import math
from enum import Enum, auto

import numpy as np

from ember.autograd.function import Function
from ember.autograd.grad_mode import no_grad
from ember.nn.module import Module
from ember.nn.utils import parametrize
from ember.nn.utils.weight_norm import _weight_norm, norm_except_dim
from ember.tensor import Tensor, from_array

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# ---------------------------------------------------------------------------------------------- linear algebra
# Private kernels for what ember's op library does not offer yet (matrix_exp, householder_product, geqrf).

_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
           10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm_numpy(a: np.ndarray) -> np.ndarray:
    """exp of a batch of square matrices: Pade(13) with scaling and squaring (Higham 2005), computed in float64."""
    work = a.astype(np.complex128 if np.iscomplexobj(a) else np.float64)
    n = work.shape[-1]
    if work.size == 0:
        return work.astype(a.dtype)
    one_norm = float(np.abs(work).sum(axis=-2).max()) if n else 0.0
    squarings = max(0, math.ceil(math.log2(one_norm / _THETA13))) if one_norm > _THETA13 else 0
    work = work / (2.0 ** squarings)
    b = _PADE13
    ident = np.broadcast_to(np.eye(n, dtype=work.dtype), work.shape)
    a2 = work @ work
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = work @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * ident)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * ident
    result = np.linalg.solve(v - u, v + u)
    for _ in range(squarings):
        result = result @ result
    return result.astype(a.dtype)


class _MatrixExp(Function):
    """``torch.matrix_exp`` with the block-matrix gradient exp([[A^H, G], [0, A^H]])[:n, n:] (twice differentiable)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return from_array(_expm_numpy(a._data))

    @staticmethod
    def backward(ctx, grad):
        from ember import ops
        (a,) = ctx.saved_tensors
        n = a.shape[-1]
        a_h = a.mH
        zeros = ops.zeros_like(a)
        block = ops.cat([ops.cat([a_h, grad], dim=-1), ops.cat([zeros, a_h], dim=-1)], dim=-2)
        return _MatrixExp.apply(block)[..., :n, n:]


def _matrix_exp(a: Tensor) -> Tensor:
    return _MatrixExp.apply(a)


def _householder_product(reflectors: Tensor, tau: Tensor) -> Tensor:
    """``torch.linalg.householder_product``: the first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^H."""
    from ember import ops
    m, n = reflectors.shape[-2], reflectors.shape[-1]
    k = tau.shape[-1]
    dtype = reflectors.dtype
    rows = np.arange(m)
    q = ops.eye(m, dtype=dtype).expand(*reflectors.shape[:-2], m, m)
    for i in range(k):
        below = from_array((rows > i).astype(dtype.numpy_dtype))
        unit = from_array((rows == i).astype(dtype.numpy_dtype))
        v = reflectors[..., :, i] * below + unit
        qv = q @ v.unsqueeze(-1)
        q = q - (qv * tau[..., i:i + 1].unsqueeze(-1)) @ v.unsqueeze(-2)
    return q[..., :, :n]


def _geqrf_numpy(a: np.ndarray):
    """LAPACK geqrf (R above the diagonal, the Householder vectors below, and tau) for a batch of matrices."""
    h, tau = np.linalg.qr(a, mode="raw")
    return np.swapaxes(h, -1, -2).astype(a.dtype), tau.astype(a.dtype)


def _is_orthogonal(q: np.ndarray) -> bool:
    n, k = q.shape[-2], q.shape[-1]
    eps = 10.0 * n * np.finfo(q.dtype).eps
    return bool(np.allclose(np.swapaxes(q.conj(), -1, -2) @ q, np.eye(k, dtype=q.dtype), rtol=1e-5, atol=eps))


def _make_orthogonal(a: np.ndarray) -> np.ndarray:
    """The Q factor of a tall A = QR, with the signs chosen so that diag(R) is non-negative."""
    q, r = np.linalg.qr(a)
    diag = np.diagonal(r, axis1=-2, axis2=-1)
    signs = np.sign(diag) if not np.iscomplexobj(diag) else np.where(diag == 0, 0, diag / np.maximum(np.abs(diag), 1e-300))
    return (q * signs[..., None, :]).astype(a.dtype)


# ---------------------------------------------------------------------------------------------- orthogonal
class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    base: Tensor

    def __init__(self, weight, orthogonal_map: _OrthMaps, *, use_trivialization=True) -> None:
        super().__init__()
        # Complex Householder reflectors cannot encode every unitary matrix (torch's note [Householder complex]).
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        from ember import ops
        from ember.linalg import solve
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            # Only n*k - k(k-1)/2 parameters matter: the strictly upper part would cancel in X - X^H anyway.
            X = X.tril()
            if n != k:
                X = ops.cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = _matrix_exp(A)
            else:
                # The Cayley retraction (I + A/2)(I - A/2)^{-1}.
                Id = ops.eye(n, dtype=A.dtype)
                Q = solve(ops.add(Id, A, alpha=-0.5), ops.add(Id, A, alpha=0.5))
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            # The diagonal of X holds +-1 signs; cast to int so that it is neither differentiated nor updated.
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    @no_grad()
    def right_inverse(self, Q: Tensor) -> Tensor:
        from ember import ops
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {Q.shape}.")
        Q_init = Q
        n, k = Q.size(-2), Q.size(-1)
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        if not hasattr(self, "base"):
            # Without the trivialization only the Householder map can be inverted: X with cayley(X) = Q (or
            # exp(X) = Q) restricted to the first k columns has no known closed form.
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError("It is not possible to assign to the matrix exponential "
                                          "or the Cayley parametrizations when use_trivialization=False.")
            A, tau = _geqrf_numpy(np.ascontiguousarray(Q._data))
            idx = np.arange(min(n, k))
            # diag(R) > 0 picks one of the QR decompositions (Q R = (-Q)(-R)); LAPACK's tau == 0 marks an unused
            # reflection, whose sign is flipped.
            A[..., idx, idx] = np.sign(A[..., idx, idx]) * np.where(tau == 0.0, -1, 1)
            A = from_array(A)
            return A.mT if transpose else A
        if n == k:
            q = Q._data
            Q = from_array(np.array(q) if _is_orthogonal(q) else _make_orthogonal(q))
        else:
            # Complete Q into a full n x n orthogonal matrix.
            N = ops.randn(*(tuple(Q.size()[:-2]) + (n, n - k)), dtype=Q.dtype)
            Q = from_array(_make_orthogonal(ops.cat([Q, N], dim=-1)._data))
        self.base = Q
        # Returning -Id makes householder(zeros) == eye, since the Householder map reads the diagonal's signs.
        neg_Id = np.zeros(tuple(Q_init.shape), dtype=Q_init.dtype.numpy_dtype)
        diag = np.arange(min(Q_init.shape[-2], Q_init.shape[-1]))
        neg_Id[..., diag, diag] = -1.0
        return from_array(neg_Id)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Constrain ``module.<name>`` (a matrix or batch of matrices) to be orthogonal, keeping its current value
    where possible (projected onto the orthogonal matrices otherwise).

    ``orthogonal_map`` is ``"matrix_exp"`` (default for square weights), ``"cayley"`` or ``"householder"`` (default
    for rectangular ones). With ``use_trivialization=True`` (the default) a ``base`` buffer holds the current
    orthogonal matrix and the parameter is a displacement from it (torch's "dynamic trivialization").

    >>> layer = ember.nn.utils.parametrizations.orthogonal(ember.nn.Linear(4, 2))
    >>> w = layer.weight
    >>> bool(((w @ w.T) - ember.eye(2)).abs().max() < 1e-5), list(layer.state_dict())[1:]
    (True, ['parametrizations.weight.original', 'parametrizations.weight.0.base'])
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    # 1-D tensors could live on the sphere, but that would surprise more users than it would help (as torch).
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.size(-2) == weight.size(-1) or weight.is_complex() else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None) if isinstance(orthogonal_map, str) else None
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# ---------------------------------------------------------------------------------------------- weight norm
class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        if dim is None:
            dim = -1
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        weight_g = norm_except_dim(weight, 2, self.dim)
        weight_v = weight
        return weight_g, weight_v


def weight_norm(module: Module, name: str = "weight", dim: int = 0):
    """Weight normalization as a parametrization: ``original0`` is the magnitude g, ``original1`` the direction v,
    and ``module.<name>`` reads ``g * v / ||v||`` (norm over every dimension but ``dim``; whole tensor if None).

    State dicts saved with the hook-based :func:`ember.nn.utils.weight_norm` (``weight_g``/``weight_v``) load too.

    >>> layer = ember.nn.utils.parametrizations.weight_norm(ember.nn.Linear(3, 2))
    >>> layer.parametrizations.weight.original0.shape, layer.parametrizations.weight.original1.shape
    (ember.Size([2, 1]), ember.Size([2, 3]))
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                 error_msgs) -> None:
        g_key = f"{prefix}{name}_g"
        v_key = f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            original0 = state_dict.pop(g_key)
            original1 = state_dict.pop(v_key)
            state_dict[f"{prefix}parametrizations.{name}.original0"] = original0
            state_dict[f"{prefix}parametrizations.{name}.original1"] = original1

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


# ---------------------------------------------------------------------------------------------- spectral norm
class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        from ember.nn import functional as F
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            # A 1-D weight is normalized exactly in forward; nothing to approximate.
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.size()
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            # Start from reasonable singular-vector estimates.
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if weight.ndim <= 1:
            raise AssertionError(f"Expected weight to have more than 1 dimension, got {weight.ndim}")
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    @no_grad()
    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        # u and v are updated in place (module copies sharing the buffers see the new estimates); forward clones
        # them so a graph from an earlier forward keeps the values it saved (see spectral_norm.py).
        from ember import ops
        from ember.nn import functional as F
        if weight_mat.ndim <= 1:
            raise AssertionError(f"Expected weight_mat to have more than 1 dimension, got {weight_mat.ndim}")
        for _ in range(n_power_iterations):
            self._u = F.normalize(ops.mv(weight_mat, self._v), dim=0, eps=self.eps, out=self._u)
            self._v = F.normalize(ops.mv(weight_mat.H, self._u), dim=0, eps=self.eps, out=self._v)

    def forward(self, weight: Tensor) -> Tensor:
        from ember import ops
        from ember.nn import functional as F
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = ops.vdot(u, ops.mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Spectral normalization as a parametrization: ``module.<name>`` reads ``original / sigma``.

    ``sigma`` (the largest singular value) is estimated by power iteration with vectors kept in the buffers
    ``parametrizations.<name>.0._u`` and ``._v``; training mode runs ``n_power_iterations`` steps per access, eval
    mode reuses them. ``dim`` defaults to 0 (1 for ConvTranspose layers).

    >>> layer = ember.nn.utils.parametrizations.spectral_norm(ember.nn.Linear(3, 2))
    >>> list(layer.state_dict())
    ['bias', 'parametrizations.weight.original', 'parametrizations.weight.0._u', 'parametrizations.weight.0._v']
    """
    from ember.nn.utils.spectral_norm import _is_conv_transpose
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if _is_conv_transpose(module) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
