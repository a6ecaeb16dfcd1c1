"""The local stack without Docker: Kafka (KRaft), Kafka Connect with Debezium,
PostgreSQL, and slots for the project's Schema Registry and REST Proxy.

``cta-stack up | down | status | logs`` (see :mod:`cta_stack.cli`).
"""
