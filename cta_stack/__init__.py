"""The local stack without Docker: Kafka (KRaft), Kafka Connect with Debezium,
PostgreSQL, and slots for the project's Schema Registry and REST Proxy (run as
``python -m cta_servers.<server>``, never imported); the pipeline's job catalogue and
``cta-tui up``'s launcher. Other packages use :mod:`cta_stack.api`.

``cta-stack up | down | status | logs`` (see :mod:`cta_stack.cli`).
"""
