"""``ember.utils``: the helpers of ``torch.utils``. Submodules (``data`` ...) load on first use, so
``import ember`` stays fast.

>>> import ember
>>> ember.utils.data.TensorDataset(ember.arange(3))[1]
(tensor(1),)
"""

from __future__ import annotations

from ember._namespaces import lazy_submodules

__getattr__ = lazy_submodules(__name__, globals())
