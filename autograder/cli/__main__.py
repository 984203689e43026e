"""``python -m autograder.cli``: the ``rnnlab`` command."""

import sys

from autograder.cli import main

sys.exit(main())
