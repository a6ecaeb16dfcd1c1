"""A Confluent-compatible Kafka REST Proxy (API v2: produce and topic metadata).

Pure parts in :mod:`.formats` (request parsing, Avro JSON conversion, wire
framing); IO in :mod:`.kafka_io` (producer, metadata), :mod:`.registry`
(schema lookups) and :mod:`.app` (aiohttp routes).
Run with ``python -m cta_servers.rest_proxy --port 8082 --bootstrap-servers ... --schema-registry-url ...``.
"""
