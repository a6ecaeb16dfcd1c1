"""How a secured stack starts its Schema Registry and REST Proxy: HTTPS with the stack's
server certificate, basic auth against the stack's HTTP users, and their Kafka clients
as their own principals."""

from __future__ import annotations

from cta_stack.principals import SASL_MECHANISM
from cta_stack.secure_files import SecureFiles

#: Each Python server's Kafka principal.
SERVER_PRINCIPALS = {"schema-registry": "registry", "rest-proxy": "restproxy"}


def server_args(secure: SecureFiles) -> list[str]:
    """The server's HTTPS and basic-auth options (its users are its section of the file)."""
    certs = secure.certs
    return [
        "--tls-cert",
        str(certs.server_cert),
        "--tls-key",
        str(certs.server_key),
        "--users-file",
        str(secure.http_users),
    ]


def server_env(secure: SecureFiles, principal: str) -> dict[str, str]:
    """The server's environment: its client configuration (``CTA_CLIENT_CONFIG``) and the
    same settings as ``CTA_*`` variables, which every version of the settings reads."""
    return {
        "CTA_CLIENT_CONFIG": str(secure.client_config(principal)),
        "CTA_SECURITY_PROTOCOL": "SASL_SSL",
        "CTA_SASL_MECHANISM": SASL_MECHANISM,
        "CTA_SASL_USERNAME": principal,
        "CTA_SASL_PASSWORD": secure.passwords[principal],
        "CTA_SSL_CA_LOCATION": str(secure.certs.ca),
        "CTA_SCHEMA_REGISTRY_AUTH": secure.user_info(principal),
    }
