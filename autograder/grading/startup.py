"""Import TensorFlow and Keras at a process' start for a third less CPU: with the cyclic
garbage collector paused, whose passes would walk the growing heap again and again.

Importing Keras on TensorFlow creates a great many long-lived objects (modules, functions,
classes). While they are created, the cyclic collector runs a full pass every time enough
new objects survive, and each pass walks all of them; Python's exit walks them once more.
``gc.freeze`` moves what the import made into the collector's permanent generation, which no
later pass walks (Keras' ``clear_session``, a checker's clean-up between jobs, the exit).
Measured on this project's 2-core machine (``python benchmarks/startup.py``, medians of 3):
a Python that imports Keras, clears the session once and exits used 6.3 s of CPU, 4.2 s
through ``import_frozen``; the ``clear_session`` itself 0.22 s against under 0.001 s.
Python's documentation recommends ``gc.freeze`` for a long-lived heap made at start-up
(https://docs.python.org/3/library/gc.html#gc.freeze).

Nothing is computed differently: the collector only frees unreachable cycles, and objects
of the import that become garbage later stay in memory for the life of the process, as the
modules themselves do.
"""

from __future__ import annotations

import gc
import importlib


def import_frozen(*modules: str) -> None:
    """Import ``modules`` (dotted names) with the cyclic garbage collector paused, then freeze
    every object alive (``gc.freeze``) and let the collector run again if it ran before.

    Raises what the imports raise (ImportError, ...), with the collector restored.
    """
    running = gc.isenabled()
    gc.disable()
    try:
        for module in modules:
            importlib.import_module(module)
    finally:
        gc.freeze()
        if running:
            gc.enable()
