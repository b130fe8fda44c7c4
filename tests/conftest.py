"""Shared fixtures. Each part's fixtures live in tests/support/ and are imported here."""

from tests.support.collector import collector

__all__ = ["collector"]
