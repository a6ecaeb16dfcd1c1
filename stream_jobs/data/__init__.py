"""Packaged copies of the CTA data (see /work/shared/data/README.md for its quirks)."""
