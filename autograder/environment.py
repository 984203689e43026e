"""The environment of a run that executes notebooks: profile and data chosen explicitly."""

from __future__ import annotations

import os

from lab_support import IMDB_SOURCE_ENV, PROFILE_ENV


def grading_environment(profile: str, imdb: str) -> dict[str, str]:
    """This process' environment plus the profile and IMDB source, with TensorFlow kept quiet."""
    environment = dict(os.environ, **{PROFILE_ENV: profile, IMDB_SOURCE_ENV: imdb})
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return environment
