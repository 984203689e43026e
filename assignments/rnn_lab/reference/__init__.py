"""Reference solutions: one pure builder per exercise, each returning a compiled Keras model.

The bodies of these functions become the solution cells of the master notebook, so they
use only names the notebook defines: ``keras``, ``layers`` and the lab's constants.
"""
