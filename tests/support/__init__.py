"""Helpers shared by the test tiers (fixtures, sample records, app builders)."""
