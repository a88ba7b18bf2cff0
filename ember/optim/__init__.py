"""Optimization algorithms, as ``torch.optim``: ``Optimizer`` and one class per algorithm.

``lr_scheduler`` and ``swa_utils`` are submodules, imported on first use.

>>> import ember
>>> w = ember.nn.Parameter(ember.tensor([3.0]))
>>> opt = ember.optim.Adam([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step(); w
Parameter containing:
tensor([2.9000], requires_grad=True)
"""

from __future__ import annotations

from ember._namespaces import lazy_submodules as _lazy_submodules

from ember.optim.adadelta import Adadelta
from ember.optim.adagrad import Adagrad
from ember.optim.adam import Adam
from ember.optim.adamax import Adamax
from ember.optim.adamw import AdamW
from ember.optim.asgd import ASGD
from ember.optim.lbfgs import LBFGS
from ember.optim.nadam import NAdam
from ember.optim.optimizer import Optimizer
from ember.optim.radam import RAdam
from ember.optim.rmsprop import RMSprop
from ember.optim.rprop import Rprop
from ember.optim.sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "ASGD", "LBFGS", "lr_scheduler", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "Rprop", "SGD", "swa_utils"]

__getattr__ = _lazy_submodules(__name__, globals(), ("lr_scheduler", "swa_utils"))


def __dir__():
    return sorted(set(globals()) | set(__all__))
