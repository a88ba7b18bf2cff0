"""What ``torch.cuda``, ``torch.backends``, ``torch.accelerator`` and ``torch.mps`` answer under ember.compat.

Ember runs on the CPU: availability probes say False, seeding and synchronisation are accepted as no-ops
(a script that seeds CUDA "just in case" keeps working), and anything that needs a device raises a
``RuntimeError`` saying so.

>>> from ember.compat import shims
>>> shims.cuda.is_available(), shims.cuda.device_count(), shims.backends.mps.is_available()
(False, 0, False)
"""

from __future__ import annotations

import types

__all__ = ["cuda", "backends", "accelerator", "mps", "TOP_LEVEL", "MODULES"]


def _module(name, doc, **attributes):
    module = types.ModuleType(name, doc)
    module.__path__ = []
    for key, value in attributes.items():
        setattr(module, key, value)
    return module


def _false(*args, **kwargs):
    return False


def _zero(*args, **kwargs):
    return 0


def _none(*args, **kwargs):
    return None


def _no_device(api):
    def call(*args, **kwargs):
        raise RuntimeError(f"{api}: Ember runs on the CPU and has no CUDA device; check torch.cuda.is_available() "
                           "first or use device='cpu'")
    call.__name__ = api.rsplit(".", 1)[-1]
    return call


cuda = _module(
    "torch.cuda", "CUDA probes for code written for PyTorch: Ember has no CUDA device.",
    is_available=_false, is_initialized=_false, device_count=_zero, is_bf16_supported=_false,
    manual_seed=_none, manual_seed_all=_none, seed=_none, seed_all=_none, synchronize=_none, empty_cache=_none,
    init=_no_device("torch.cuda.init"), current_device=_no_device("torch.cuda.current_device"),
    set_device=_no_device("torch.cuda.set_device"), get_device_name=_no_device("torch.cuda.get_device_name"),
    get_device_properties=_no_device("torch.cuda.get_device_properties"),
    get_device_capability=_no_device("torch.cuda.get_device_capability"),
    memory_allocated=_zero, max_memory_allocated=_zero, memory_reserved=_zero, max_memory_reserved=_zero,
    reset_peak_memory_stats=_none,
)

mps = _module("torch.mps", "Apple-GPU probes: Ember has no MPS device.", is_available=_false, device_count=_zero,
              manual_seed=_none, seed=_none, synchronize=_none, empty_cache=_none)

backends = _module(
    "torch.backends", "Backend flags scripts set or read; they change nothing on Ember's NumPy backend.",
    mps=_module("torch.backends.mps", "MPS backend probe.", is_available=_false, is_built=_false),
    cudnn=_module("torch.backends.cudnn", "cuDNN flags (accepted, no effect).", enabled=True, benchmark=False,
                  deterministic=False, allow_tf32=True, is_available=_false, version=_none),
    cuda=_module("torch.backends.cuda", "CUDA backend flags (accepted, no effect).", is_built=_false,
                 matmul=types.SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                                              allow_bf16_reduced_precision_reduction=True)),
    mkldnn=_module("torch.backends.mkldnn", "oneDNN probe.", is_available=_false, enabled=False),
    openmp=_module("torch.backends.openmp", "OpenMP probe.", is_available=_false),
)

accelerator = _module("torch.accelerator", "Accelerator probes: Ember has only the CPU.", is_available=_false,
                      device_count=_zero, current_accelerator=_none, synchronize=_none)

_deterministic = {"mode": False}
_matmul_precision = {"value": "highest"}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Accepted: every Ember kernel is deterministic on the CPU."""
    _deterministic["mode"] = bool(mode)


def are_deterministic_algorithms_enabled():
    """What the last ``use_deterministic_algorithms`` call set."""
    return _deterministic["mode"]


def set_float32_matmul_precision(precision):
    """Accepted ("highest", "high", "medium"); Ember's float32 matmul is always full precision."""
    if precision not in ("highest", "high", "medium"):
        raise ValueError(f"set_float32_matmul_precision: expected 'highest', 'high' or 'medium', got {precision!r}")
    _matmul_precision["value"] = precision


def get_float32_matmul_precision():
    """What the last ``set_float32_matmul_precision`` call set (default "highest")."""
    return _matmul_precision["value"]


TOP_LEVEL = {
    "cuda": cuda, "mps": mps, "backends": backends, "accelerator": accelerator,
    "use_deterministic_algorithms": use_deterministic_algorithms,
    "are_deterministic_algorithms_enabled": are_deterministic_algorithms_enabled,
    "set_float32_matmul_precision": set_float32_matmul_precision,
    "get_float32_matmul_precision": get_float32_matmul_precision,
}

MODULES = {"torch.cuda": cuda, "torch.mps": mps, "torch.backends": backends, "torch.accelerator": accelerator,
           **{f"torch.backends.{name}": getattr(backends, name) for name in ("mps", "cudnn", "cuda", "mkldnn", "openmp")}}
