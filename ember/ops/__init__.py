"""The op library: one file per family, each op registered once (see registry.py).

Importing this package registers every op, exports the public functions the definitions generate
(``registry.PUBLIC``) and binds their ``Tensor`` methods; ``ember`` re-exports the public functions.
"""

from __future__ import annotations

import importlib

from ember import tensor as _tensor_module
from ember._namespaces import import_families
from ember.ops import registry as _registry
from ember.ops.registry import REGISTRY, OpDef, register_function, register_op

FAMILIES = (
    "arithmetic", "math_functions", "reduce", "movement", "index", "creation", "random", "products", "decompositions",
    "activation", "loss", "normalization", "convolution", "pooling", "resampling", "embedding", "distance", "recurrent",
    "attention",
)

import_families("ember.ops", FAMILIES)  # each family's definitions register their forms in the registry
PUBLIC = dict(_registry.PUBLIC)
# The random generator and its seeding functions are public (torch.Generator, torch.manual_seed ...) but are not
# made of ops, so no definition generates them: they are exported by name.
from ember.ops.random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,  # noqa: E402
                              seed, set_rng_state)

PUBLIC.update(Generator=Generator, default_generator=default_generator, get_rng_state=get_rng_state,
              initial_seed=initial_seed, manual_seed=manual_seed, seed=seed, set_rng_state=set_rng_state)
_registry.bind_tensor_methods()
globals().update(PUBLIC)
_tensor_module._ops = importlib.import_module("ember.ops")

__all__ = ["REGISTRY", "OpDef", "register_op", "register_function", *PUBLIC]
