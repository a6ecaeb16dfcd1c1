"""Give a secured cluster its principals and ACLs through the admin API (as ``admin``):
each principal's SCRAM-SHA-512 credential (upserted, so a password file and the cluster
never disagree) and every grant of :mod:`cta_stack.acl_plan` (creating an ACL that exists
changes nothing, so this runs on every ``up``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from cta_stack.acl_plan import Grant
from cta_stack.errors import StackError
from cta_stack.principals import ADMIN

SCRAM_ITERATIONS = 4096
TIMEOUT_S = 30.0


def bindings(grants: Iterable[Grant]) -> list[AclBinding]:
    """One confluent-kafka ACL binding per operation of each grant."""
    return [
        AclBinding(
            ResourceType[g.resource],
            g.name,
            ResourcePatternType[g.pattern],
            g.user,
            "*",
            AclOperation[op],
            AclPermissionType.ALLOW,
        )
        for g in grants
        for op in g.operations
    ]


def _results(futures: dict[Any, Any], what: str) -> None:
    for key, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            raise StackError(f"{what} {key}: {exc.args[0] if exc.args else exc}") from None


def upsert_users(admin: AdminClient, passwords: dict[str, str]) -> None:
    """Every principal but ``admin`` (made when the storage was formatted) gets its credential."""
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
    changes: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(user, info, password.encode())
        for user, password in passwords.items()
        if user != ADMIN
    ]
    _results(admin.alter_user_scram_credentials(changes, request_timeout=TIMEOUT_S), "SCRAM credential of")


def create_acls(admin: AdminClient, grants: Iterable[Grant]) -> int:
    """Create every grant's ACLs (idempotent); how many bindings there are."""
    wanted = bindings(grants)
    _results(admin.create_acls(wanted, request_timeout=TIMEOUT_S), "ACL")
    return len(wanted)


def provision(conf: dict[str, Any], passwords: dict[str, str], grants: Iterable[Grant]) -> int:
    """Users and ACLs on the cluster ``conf`` (admin's client configuration) reaches."""
    admin = AdminClient(conf)
    upsert_users(admin, passwords)
    return create_acls(admin, grants)
