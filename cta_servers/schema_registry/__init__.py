"""A Confluent-compatible Schema Registry (Avro) backed by a compacted Kafka topic.

Pure parts: :mod:`.canonical` (schema parsing and identity), :mod:`.compatibility`
(Avro schema resolution), :mod:`.state` (the in-memory model built from store
records). IO: :mod:`.store` (Kafka) and :mod:`.app` (aiohttp routes).
Run with ``python -m cta_servers.schema_registry --port 8081 --bootstrap-servers ...``.
"""
