"""Refusals in one line each (pure): a client without credentials, with a wrong password,
or acting outside its ACLs is told who it was to the service, on what, and what is
missing, e.g. ``Kafka refused User:dashboard WRITE on topic 'TURNSTILE_SUMMARY'
(TOPIC_AUTHORIZATION_FAILED); ...``. Commands print the line and exit 1; long-running
jobs log it and stop (retrying cannot help), so the pipeline screen shows it.

Each form has its row in :mod:`cta_core.troubles`.
"""

from __future__ import annotations

#: librdkafka's / the protocol's authorization error names -> the kind of resource
AUTHORIZATION_ERRORS = {
    "TOPIC_AUTHORIZATION_FAILED": "topic",
    "GROUP_AUTHORIZATION_FAILED": "group",
    "CLUSTER_AUTHORIZATION_FAILED": "cluster",
    "TRANSACTIONAL_ID_AUTHORIZATION_FAILED": "transactional id",
}
#: authentication error names (librdkafka's local one and the protocol's)
AUTHENTICATION_ERRORS = {"_AUTHENTICATION", "SASL_AUTHENTICATION_FAILED"}
#: aiokafka's error classes -> the protocol's names
AIOKAFKA_ERRORS = {
    "TopicAuthorizationFailedError": "TOPIC_AUTHORIZATION_FAILED",
    "GroupAuthorizationFailedError": "GROUP_AUTHORIZATION_FAILED",
    "ClusterAuthorizationFailedError": "CLUSTER_AUTHORIZATION_FAILED",
    "TransactionalIdAuthorizationFailed": "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
    "SaslAuthenticationFailed": "SASL_AUTHENTICATION_FAILED",
    "AuthenticationFailedError": "SASL_AUTHENTICATION_FAILED",
}
ACLS_HINT = (
    "grant it with an ACL (cta-stack acls lists what each principal needs) or use this job's own principal"
)


def principal_of(username: str | None) -> str:
    """Kafka's name for a client: ``User:<name>``, or ``ANONYMOUS`` without credentials."""
    return f"User:{username}" if username else "ANONYMOUS"


def resource_text(kind: str, name: str | None) -> str:
    if kind == "cluster":
        return "the cluster"
    return f"{kind} '{name}'" if name else f"its {kind}"


def authorization_message(principal: str, operation: str, kind: str, name: str | None, code: str) -> str:
    """``Kafka refused User:x WRITE on topic 'T' (TOPIC_AUTHORIZATION_FAILED); ...``"""
    return f"Kafka refused {principal} {operation} on {resource_text(kind, name)} ({code}); {ACLS_HINT}"


def authentication_message(servers: str, principal: str, mechanism: str | None) -> str:
    """A wrong password (or user name): the broker said so during the SASL exchange."""
    return (
        f"Kafka at {servers} refused {principal}: authentication failed ({mechanism or 'SASL'}: wrong user name "
        "or password, or no such user); check sasl.username and sasl.password in the client "
        "config (--client-config)"
    )


def anonymous_message(servers: str) -> str:
    """A client without credentials at a listener that needs them (it closes at once)."""
    return (
        f"Kafka at {servers} refused an anonymous client (it closed every connection: the "
        "listener needs credentials or TLS); give them with --client-config FILE "
        "(security.protocol, sasl.mechanism, sasl.username, sasl.password)"
    )


def http_message(service: str, url: str, user: str | None, status: int) -> str:
    """The registry or REST Proxy said 401 (who are you) or 403 (not you)."""
    who = f"user '{user}'" if user else "a client without credentials"
    missing = "wrong or missing user name or password" if status == 401 else "not allowed"
    return (
        f"{service} at {url} refused {who} (HTTP {status}: {missing}); check its basic.auth.user.info "
        "in the client config (--client-config)"
    )


def operation_for(kind: str, default: str) -> str:
    """What a client needs on a resource kind when it did ``default`` (READ on a topic
    means READ on the group too; a producer's transactional id needs WRITE)."""
    if kind == "cluster":
        return "CREATE" if default == "CREATE" else "CLUSTER_ACTION"
    return default


def error_name(code_or_class: str) -> str | None:
    """The protocol's error name for librdkafka's name or aiokafka's class name."""
    name = AIOKAFKA_ERRORS.get(code_or_class, code_or_class)
    return name if name in AUTHORIZATION_ERRORS or name in AUTHENTICATION_ERRORS else None
