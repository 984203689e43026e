"""The environment of a run that executes notebooks: profile and data chosen explicitly."""

from __future__ import annotations

import os

from lab_support import IMDB_SOURCE_ENV, PROFILE_ENV


def grading_environment(profile: str, imdb: str) -> dict[str, str]:
    """This process' environment plus the profile and IMDB source, with TensorFlow kept quiet."""
    environment = dict(os.environ, **{PROFILE_ENV: profile, IMDB_SOURCE_ENV: imdb})
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return environment


def with_threads(environment: dict[str, str], threads: int) -> dict[str, str]:
    """``environment`` with TensorFlow limited to ``threads`` threads (0: every core).

    Environment variables rather than ``tf.config``: they hold however early the process
    first touches TensorFlow.
    """
    if not threads:
        return environment
    count = str(threads)
    return dict(environment, TF_NUM_INTRAOP_THREADS=count, TF_NUM_INTEROP_THREADS=count)
