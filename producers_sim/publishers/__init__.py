"""IO adapters: where events go (Kafka, the REST Proxy, stdout) and the control channel.

The only modules of producers_sim that import confluent_kafka or httpx.
"""
