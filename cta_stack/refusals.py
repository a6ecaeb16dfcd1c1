"""Spotting a refusal in a job's output: the broker, the registry or the REST Proxy said
no (bad credentials, or an ACL the principal lacks). Pure: text in, one line out.

The job runner keeps the last such line (``run/job-<name>.refused``); the pipeline
screen and ``cta-tui up`` show it on the job's row, so a job that is refused says so
even while it keeps trying.
"""

from __future__ import annotations

import re

_REFUSAL = re.compile(
    r"AUTHORIZATION_FAILED|AUTHENTICATION_FAILED|authori[sz]ation failed|authentication failed"
    r"|not authori[sz]ed|AuthorizationFailed|AuthenticationFailed|invalid credentials"
    r"|denied operation|\b401 Unauthorized\b|\b403 Forbidden\b|\brefused: ",
    re.IGNORECASE,
)
#: the longest line kept (a job row has room for about this much)
MAX_CHARS = 240
#: What the client libraries' bare error names mean: (pattern, resource, missing permission).
_MEANING = (
    (re.compile(r"TOPIC_AUTHORIZATION|TopicAuthorization", re.I), "a topic", "READ/WRITE/CREATE on it"),
    (re.compile(r"GROUP_AUTHORIZATION|GroupAuthorization", re.I), "its consumer group", "READ on it"),
    (re.compile(r"CLUSTER_AUTHORIZATION|ClusterAuthorization", re.I), "the cluster", "an operation on it"),
    (re.compile(r"invalid credentials|AUTHENTICATION", re.I), "the broker", "valid credentials"),
    (re.compile(r"\b401\b"), "the registry or REST Proxy", "valid credentials"),
    (re.compile(r"\b403\b|denied operation", re.I), "the registry or REST Proxy", "the right to write"),
)


def refusal_line(text: str, principal: str | None = None) -> str | None:
    """``text`` (one line of output) as a refusal line naming ``principal``, or None.
    A bare client error (``TOPIC_AUTHORIZATION_FAILED`` ...) gets what it means: the
    resource refused and the permission missing."""
    line = " ".join(text.split())
    if not line or not _REFUSAL.search(line):
        return None
    meaning = next(((res, perm) for pattern, res, perm in _MEANING if pattern.search(line)), None)
    if meaning is not None and "missing" not in line:
        line = f"refused on {meaning[0]}, missing {meaning[1]}: {line}"
    if principal and principal not in line:
        line = f"principal {principal}: {line}"
    return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 1] + "…"
