"""Shared fixtures: quiet TensorFlow, the smoke profile and generated data by default.

Most tests are about the RNN lab, the worked example: its shipped modules (``lab_support``,
``lab_checks``, ``lab_specs``) and its reference builders (``reference``) are importable by
their plain names here, as they are beside a student's notebook.
"""

import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from autograder.lab.find import default_lab_folder  # noqa: E402
from autograder.lab.folder import load_lab  # noqa: E402

RNN_LAB = load_lab(default_lab_folder())  # puts its shipped/ folder on sys.path
sys.path.insert(1, str(RNN_LAB.folder))  # its reference/ package, as `reference`


@pytest.fixture(autouse=True)
def smoke_on_generated_data(monkeypatch):
    """Tests never download and never train beyond the smoke budget unless they say so."""
    monkeypatch.setenv("RNNLAB_PROFILE", "smoke")
    monkeypatch.setenv("RNNLAB_IMDB", "generated")


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The assignment built once per test session (smoke profile, generated data)."""
    from autograder.build.assign import build
    from autograder.lab.config import load_config
    from autograder.lab.find import default_lab_folder
    from autograder.lab.settings import RunSettings

    folder = tmp_path_factory.mktemp("build") / "rnn_lab"
    shutil.copytree(default_lab_folder(), folder, ignore=shutil.ignore_patterns("build", "dist"))
    config = load_config(folder)
    build(config, RunSettings.of("smoke", "generated"))
    return config
