"""Rewind: the dashboard at any simulated moment Kafka still holds (timeline, windows, reader)."""
