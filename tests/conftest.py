"""Shared fixtures: quiet TensorFlow, the smoke profile and generated data by default."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def smoke_on_generated_data(monkeypatch):
    """Tests never download and never train beyond the smoke budget unless they say so."""
    monkeypatch.setenv("RNNLAB_PROFILE", "smoke")
    monkeypatch.setenv("RNNLAB_IMDB", "generated")
