"""``ember.nn``: neural-network building blocks (``torch.nn``).

>>> import ember
>>> ember.nn.functional.relu(ember.tensor([-1.0]))
tensor([0.])
"""

from ember.nn import functional  # noqa: F401
