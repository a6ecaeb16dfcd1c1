"""cta-jobs: stations into PostgreSQL, Kafka Connect, the Faust worker and ksqlDB setup."""
