"""The secured stack's principals: one per component, and how they sign in (SCRAM-SHA-512).

``admin`` is the super user (``super.users``) that cta-stack itself uses; every other
principal gets only the ACLs of :mod:`cta_stack.acl_plan`.
"""

from __future__ import annotations

SASL_MECHANISM = "SCRAM-SHA-512"
ADMIN = "admin"
#: What each principal is for, ``admin`` first (the order of ``cta-stack acls``).
WHAT = {
    ADMIN: "cta-stack itself (super user)",
    "sim": "cta-sim",
    "weather": "cta-weather (Kafka: the simulator's clock; HTTP: the REST Proxy)",
    "restproxy": "the REST Proxy's Kafka clients",
    "registry": "the Schema Registry's Kafka clients",
    "connect": "the Kafka Connect worker and its connectors",
    "faust": "cta-jobs faust (stations table, turnstile summary)",
    "predict": "cta-jobs predict",
    "dashboard": "cta-tui (and its SSH and browser sessions)",
    "tail": "cta-tui tail",
}
PRINCIPALS = tuple(WHAT)
