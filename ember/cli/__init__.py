"""The ``ember`` command line's subcommands: one module each (``train``, ``evaluate``, ``predict``, ``info``), the
small default models (``models``) and what they share (``common``: errors, data sources, checkpoints).

Each subcommand module has ``add_arguments(parser)`` and ``run(args) -> exit code``; ``ember.__main__`` builds the
parser from them.

>>> from ember.cli import models
>>> models.MODEL_NAMES
('cnn', 'mlp')
"""
