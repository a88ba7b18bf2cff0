"""Doctest namespace: every docstring example runs with ``ember`` and ``np`` in scope."""

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    import ember
    doctest_namespace["ember"] = ember
    doctest_namespace["np"] = np
    if hasattr(ember, "manual_seed"):
        ember.manual_seed(0)
