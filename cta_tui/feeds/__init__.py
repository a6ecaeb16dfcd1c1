"""Record sources: the confluent-kafka feed and an in-memory one for tests."""
