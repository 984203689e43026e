"""The toolkit's library for checking Keras answers, shared by every lab.

- ``labkit.architecture``: read a model as a chain of layers and match it against a spec.
- ``labkit.checks``: the checks a lab's tests call (hand counts, layers, parameter counts) and
  ``train_and_score``, which trains a fresh copy within a budget, reusing stored measurements
  in the trusted checker.
- ``labkit.display``: a check's result in a notebook, as one sentence per failed check.

A lab's build ships this folder beside the student notebook, so public checks run the same
code as the hidden tests. It imports Keras only inside the functions that need it.
"""
