"""Ember's native kernels: C files in this folder, built and cached by the one loader, each with a NumPy fallback.

One kernel family per file: ``rowwise.c`` (softmax, masked softmax, layer_norm), ``pointwise.c`` (tanh-GELU),
``rnn_cell.c`` (the LSTM cell), ``pool.c`` (max pooling), ``im2col.c`` (convolution columns), ``scatter_rows.c``
(the embedding backward) and ``optimizer.c`` (SGD/Adam/AdamW updates). Each has its cffi declarations in a
``.h`` of the same name and its Python wrapper module here, which returns None (the caller then runs its NumPy
code) when the kernel does not apply or cannot be built; ``ember_kernels.h`` holds what several share.
``fused_group.c`` is the template ember/compiler/codegen.py fills in for an elementwise fusion group, and
``openmp_probe.c`` tells the loader whether the C compiler has OpenMP.
:mod:`ember.kernels.loader` compiles a family with the system C compiler through cffi (the ``compile`` extra)
and caches it on disk; the wheel ships the C sources as package data and stays pure Python.

Importing this package imports neither cffi nor any family: ``from ember.kernels import rowwise`` loads one.

>>> from ember.kernels import loader
>>> lib = loader.load_library("rowwise")
>>> lib is None or hasattr(lib, "ember_softmax")
True
"""
