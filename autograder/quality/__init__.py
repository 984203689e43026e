"""Tests of the tests: ``verify-tests`` on the variant corpus and ``calibrate`` for accuracy thresholds."""
