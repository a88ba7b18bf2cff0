"""Ember vs PyTorch benchmarks: ``python -m bench`` (see ``bench.run``); results go to ``BENCHMARKS.md``.

Modules: ``models`` (network code shared by both libraries), ``workloads`` (training/inference steps),
``micro`` (single-op benchmarks), ``startup`` (import time and size), ``measure`` (one measurement round in
a child process) and ``run`` (the harness that alternates the libraries and writes the report).
"""
