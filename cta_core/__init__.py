"""What every part of cta-live shares: settings, topic names, ports, Avro schemas
and Kafka client factories. Headless: nothing here imports Textual."""

__version__ = "0.1.0"
