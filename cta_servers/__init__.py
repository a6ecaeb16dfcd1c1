"""The project's Confluent-compatible HTTP servers, run by the local stack in place of
Confluent's own (whose jars are not on Maven Central).

:mod:`.schema_registry` (Avro schemas stored in a compacted Kafka topic) and
:mod:`.rest_proxy` (Kafka REST Proxy API v2: produce, topic metadata) share one
web-service base, :mod:`.web`: error answers in Confluent's shape, the root route,
request size limits, logging and serving until SIGTERM. Each runs as
``python -m cta_servers.<server>``; nothing here imports the stack, the jobs or the
dashboard.
"""
