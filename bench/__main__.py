"""``python -m bench``: run the Ember vs PyTorch benchmarks (options: ``python -m bench --help``)."""

import sys

from bench.run import main

sys.exit(main())
