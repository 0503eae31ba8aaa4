"""Fault tests. A package, so that `from conftest import …` here reaches tests/conftest.py."""
