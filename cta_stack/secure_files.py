"""The secured stack's files under ``<stack_dir>/secure/``: the principals' passwords
(random per stack, made once), one client configuration per principal
(``clients/<principal>.properties``, Kafka's properties format: what ``CTA_CLIENT_CONFIG``
and ``--client-config`` read) and the HTTP users of the Schema Registry and REST Proxy.

Everything holding a secret is written mode 0600 in a 0700 directory. The directory's
existence is what marks a stack as secured (``cta-stack up --secure`` makes it; later
commands on that stack directory find it).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cta_stack.certs import CertFiles, ensure_certs
from cta_stack.principals import ADMIN, PRINCIPALS, SASL_MECHANISM

#: Principals that may register schemas (the others only read them: 403 on a write).
REGISTRY_WRITERS = frozenset({ADMIN, "sim", "predict", "restproxy"})
#: Principals that may produce through the REST Proxy (the others may only read: 403).
REST_PROXY_WRITERS = frozenset({ADMIN, "weather"})


def secure_dir(stack_root: Path) -> Path:
    return stack_root / "secure"


def is_secure(stack_root: Path) -> bool:
    """Whether the stack in ``stack_root`` was made with ``cta-stack up --secure``."""
    return (secure_dir(stack_root) / "passwords.json").is_file()


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    path.chmod(0o600)


def hash_password(password: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


@dataclass(frozen=True)
class Endpoints:
    """Where a client finds the secured services."""

    bootstrap_servers: str
    schema_registry_url: str
    rest_proxy_url: str


@dataclass(frozen=True)
class SecureFiles:
    """One secured stack's secrets and the files made from them."""

    root: Path
    passwords: Mapping[str, str]
    certs: CertFiles

    @classmethod
    def ensure(cls, stack_root: Path) -> SecureFiles:
        """The stack's certificates and passwords, made when missing (new principals get one)."""
        root = secure_dir(stack_root)
        certs = ensure_certs(root)
        path = root / "passwords.json"
        passwords: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}
        missing = [p for p in PRINCIPALS if p not in passwords]
        if missing or not path.is_file():
            passwords.update({p: secrets.token_urlsafe(24) for p in missing})
            _write_private(path, json.dumps(passwords, indent=1) + "\n")
        return cls(root, passwords, certs)

    @classmethod
    def load(cls, stack_root: Path) -> SecureFiles | None:
        """The files of a secured stack, None for a plaintext one."""
        return cls.ensure(stack_root) if is_secure(stack_root) else None

    @property
    def clients_dir(self) -> Path:
        return self.root / "clients"

    def client_config(self, principal: str) -> Path:
        """``clients/<principal>.properties``: what that component's ``CTA_CLIENT_CONFIG`` names."""
        return self.clients_dir / f"{principal}.properties"

    def user_info(self, principal: str) -> str:
        return f"{principal}:{self.passwords[principal]}"

    @property
    def http_users(self) -> Path:
        return self.root / "http-users.json"

    def client_properties(self, principal: str, at: Endpoints) -> str:
        ca = str(self.certs.ca)
        lines = [
            f"# {principal}'s client configuration, written by cta-stack up --secure",
            f"bootstrap.servers={at.bootstrap_servers}",
            "security.protocol=SASL_SSL",
            f"sasl.mechanism={SASL_MECHANISM}",
            f"sasl.username={principal}",
            f"sasl.password={self.passwords[principal]}",
            f"ssl.ca.location={ca}",
            f"schema.registry.url={at.schema_registry_url}",
            "basic.auth.credentials.source=USER_INFO",
            f"schema.registry.basic.auth.user.info={self.user_info(principal)}",
            f"schema.registry.ssl.ca.location={ca}",
            f"rest.proxy.url={at.rest_proxy_url}",
            f"rest.proxy.basic.auth.user.info={self.user_info(principal)}",
            f"rest.proxy.ssl.ca.location={ca}",
        ]
        return "\n".join(lines) + "\n"

    def write_clients(self, at: Endpoints) -> None:
        """Every principal's client configuration and the servers' HTTP users (rewritten
        on every start: the ports may have moved)."""
        self.clients_dir.mkdir(mode=0o700, exist_ok=True)
        for principal in PRINCIPALS:
            _write_private(self.client_config(principal), self.client_properties(principal, at))
        _write_private(self.http_users, json.dumps(self.http_users_doc(), indent=1) + "\n")

    def http_users_doc(self) -> dict[str, dict[str, dict[str, object]]]:
        """The registry's and REST Proxy's users: salted password hashes and what each may do."""

        def entry(principal: str, write: bool) -> dict[str, object]:
            salt = hashlib.sha256(f"{principal}:{self.root}".encode()).hexdigest()[:16]
            return {"salt": salt, "sha256": hash_password(self.passwords[principal], salt), "write": write}

        return {
            "schema-registry": {p: entry(p, p in REGISTRY_WRITERS) for p in PRINCIPALS},
            "rest-proxy": {p: entry(p, p in REST_PROXY_WRITERS) for p in PRINCIPALS},
        }

    def librdkafka(self, principal: str) -> dict[str, str]:
        """A confluent-kafka configuration for ``principal`` (without the bootstrap servers)."""
        return {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": SASL_MECHANISM,
            "sasl.username": principal,
            "sasl.password": self.passwords[principal],
            "ssl.ca.location": str(self.certs.ca),
        }

    def jaas(self, principal: str) -> str:
        """The Java clients' ``sasl.jaas.config`` for ``principal``."""
        return (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{principal}" password="{self.passwords[principal]}";'
        )
