"""Helpers shared by the test tiers (fixtures, sample records, app builders, job helpers), imported as ``tests.support.<module>``."""
