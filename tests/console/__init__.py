"""Helpers and fixtures for the console and store tests."""

import pytest

# The test modules import from the fixtures module before pytest loads it as a plugin.
pytest.register_assert_rewrite("tests.console.fixtures")
