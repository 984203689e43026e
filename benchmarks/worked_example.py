"""The RNN lab, the worked example the benchmarks measure, made importable by plain names:
its shipped modules (``lab_support``, ``lab_checks``) and its reference builders
(``reference``), as beside a student's notebook."""

import sys

from autograder.lab.find import default_lab_folder
from autograder.lab.folder import load_lab

LAB = load_lab(default_lab_folder())  # puts its shipped/ folder on sys.path
sys.path.insert(1, str(LAB.folder))
