"""Shared fixtures: quiet TensorFlow, the smoke profile and generated data by default."""

import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def smoke_on_generated_data(monkeypatch):
    """Tests never download and never train beyond the smoke budget unless they say so."""
    monkeypatch.setenv("RNNLAB_PROFILE", "smoke")
    monkeypatch.setenv("RNNLAB_IMDB", "generated")


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The assignment built once per test session (smoke profile, generated data)."""
    from autograder.build import build
    from autograder.config import DEFAULT_ASSIGNMENT, load_config
    from autograder.settings import RunSettings

    folder = tmp_path_factory.mktemp("build") / "rnn_lab"
    shutil.copytree(DEFAULT_ASSIGNMENT, folder, ignore=shutil.ignore_patterns("build", "dist"))
    config = load_config(folder)
    build(config, RunSettings.of("smoke", "generated"))
    return config
