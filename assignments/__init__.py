"""The labs that ship with the toolkit, one folder each (see ``autograder.lab.folder``).

Installed as the package ``rnnlab_assignments``; ``kerasgrade labs`` lists them, and ``kerasgrade
build --lab NAME`` copies one into the working folder's ``assignments/`` before building it.
"""

# What ``kerasgrade`` builds, grades and tests when no ``--lab`` is given: the worked example.
DEFAULT_LAB = "rnn_lab"
# What ``kerasgrade new-lab`` copies when no ``--from`` is given: a minimal lab of no subject
# (one count, one model question on made-up scikit-learn data, one written question).
STARTER_LAB = "starter"
