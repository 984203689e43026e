"""``python -m autograder.cli``: the ``kerasgrade`` command."""

import sys

from autograder.cli import main

sys.exit(main())
