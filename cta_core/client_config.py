"""One client configuration for every client: a file in Kafka's properties format (what
``kcat -F`` and the Kafka tools' ``--command-config`` read), given with
``--client-config FILE`` / ``CTA_CLIENT_CONFIG``.

The parser is pure (:func:`parse_properties` takes the text); :func:`read_client_config`
reads a file. What a file may hold:

- librdkafka keys (``bootstrap.servers``, ``security.protocol``, ``sasl.mechanism(s)``,
  ``sasl.username``, ``sasl.password``, ``ssl.ca.location`` ...), passed to every
  confluent-kafka client;
- the Java client's keys, mapped, never passed raw: ``sasl.jaas.config`` (user name and
  password taken from it), ``ssl.truststore.location`` with ``ssl.truststore.type=PEM``
  (the CA); other Java-only keys are mapped where librdkafka has the same idea, else left out;
- the Schema Registry client's ``schema.registry.url``, ``basic.auth.user.info`` (or
  ``schema.registry.basic.auth.user.info``), ``schema.registry.ssl.ca.location``;
- the REST Proxy's ``rest.proxy.url``, ``rest.proxy.basic.auth.user.info``,
  ``rest.proxy.ssl.ca.location``.

The mappers turn one :class:`ClientConfig` into each client's settings: librdkafka's
dict, aiokafka's keyword arguments (an SSL context from the CA), Java properties for a
Connect worker, the registry client's conf, the REST Proxy's URL, auth and CA.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("cta_core.client_config")

#: keys whose values are never shown (logs, ``redacted()``, error messages)
SECRET_WORDS = ("password", "secret", "jaas", "user.info", "key.pem", "token")
MASK = "***"

_JAAS_MODULES = {
    "org.apache.kafka.common.security.plain.PlainLoginModule": "PLAIN",
    "org.apache.kafka.common.security.scram.ScramLoginModule": "SCRAM",
}
_JAAS_OPTION = re.compile(r'(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;]+)')
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}

#: Java-only keys librdkafka has no use for (left out, logged at debug level)
_JAVA_ONLY_PREFIXES = (
    "ssl.truststore.",
    "ssl.keystore.",
    "sasl.login.",
    "sasl.client.callback",
    "sasl.jaas.",
    "client.dns.",
    "key.",
    "value.",
    "basic.auth.",
    "schema.registry.",
    "rest.proxy.",
    "default.api.timeout",
    "ssl.enabled.protocols",
    "ssl.protocol",
)
_ALIASES = {"sasl.mechanisms": "sasl.mechanism"}
#: keys naming files a client reads (checked when the config is read)
_FILE_KEYS = (
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.truststore.location",
    "schema.registry.ssl.ca.location",
    "rest.proxy.ssl.ca.location",
)


class ClientConfigError(ValueError):
    """A client config file that cannot be used: its path and line in the message."""

    def __init__(self, path: str, line: int | None, what: str) -> None:
        self.path, self.line, self.what = path, line, what
        where = f"{path} line {line}" if line else path
        super().__init__(f"{where}: {what}")


def is_secret(key: str) -> bool:
    return any(word in key.lower() for word in SECRET_WORDS)


def masked_items(conf: Mapping[str, Any]) -> dict[str, Any]:
    """``conf`` with every secret value shown as ``***``."""
    return {k: (MASK if is_secret(k) and v else v) for k, v in conf.items()}


# ---------------------------------------------------------------- the properties format


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each logical line: comments and blank lines left out,
    a line ending in an odd number of backslashes joined with the next."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.lstrip()
        if pending is None and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        joined = line[:-1] if trailing % 2 else line
        start, before = pending if pending is not None else (number, "")
        pending = (start, before + joined) if trailing % 2 else None
        if pending is None:
            out.append((start, before + joined))
    if pending is not None:
        out.append(pending)
    return out


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\" or i + 1 >= len(text):
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
            out.append(chr(int(text[i + 2 : i + 6], 16)))
            i += 6
            continue
        out.append(_ESCAPES.get(nxt, nxt))
        i += 2
    return "".join(out)


def _split_pair(line: str) -> tuple[str, str] | None:
    """(key, value) of ``key=value``, ``key: value`` or ``key value``; None without a value."""
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "=:" or ch.isspace():
            break
        i += 1
    key, rest = line[:i], line[i:].lstrip()
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip()
    elif not rest:
        return None
    return _unescape(key), _unescape(rest.rstrip())


@dataclass(frozen=True)
class Entry:
    value: str
    line: int


def parse_properties(text: str, path: str = "<text>") -> dict[str, Entry]:
    """The pairs of a properties file, each with its line; ClientConfigError names a line
    that is not ``key=value`` (a key alone is no setting a client config can mean)."""
    out: dict[str, Entry] = {}
    for number, line in _logical_lines(text):
        pair = _split_pair(line)
        if pair is None or not pair[0]:
            shown = line if len(line) <= 40 else line[:40] + "..."
            raise ClientConfigError(path, number, f"expected key=value, got {shown!r}")
        key, value = pair
        out[_ALIASES.get(key, key)] = Entry(value, number)
    return out


# ---------------------------------------------------------------- the parsed config


@dataclass(frozen=True)
class ClientConfig:
    """What one file says, mapped: librdkafka keys and the HTTP services' settings."""

    path: str
    #: librdkafka settings (Java keys mapped, Java-only keys left out)
    kafka: dict[str, str] = field(default_factory=dict)
    registry_url: str | None = None
    registry_auth: str | None = field(default=None, repr=False)
    registry_ca: str | None = None
    rest_proxy_url: str | None = None
    rest_proxy_auth: str | None = field(default=None, repr=False)
    rest_proxy_ca: str | None = None
    #: Java-only keys that were left out
    ignored: tuple[str, ...] = ()
    #: the line of each key (for errors found later, e.g. a key librdkafka does not know)
    lines: dict[str, int] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"ClientConfig(path={self.path!r}, kafka={masked_items(self.kafka)!r})"

    @property
    def username(self) -> str | None:
        return self.kafka.get("sasl.username")


def parse_jaas(value: str, path: str, line: int) -> tuple[str, dict[str, str]]:
    """(``PLAIN`` or ``SCRAM``, options) of a ``sasl.jaas.config`` value."""
    module, _, rest = value.strip().partition(" ")
    kind = _JAAS_MODULES.get(module)
    if kind is None:
        known = ", ".join(m.rsplit(".", 1)[1] for m in _JAAS_MODULES)
        raise ClientConfigError(
            path, line, f"sasl.jaas.config: login module {module!r} is not one of {known}"
        )
    options = {}
    for name, raw in _JAAS_OPTION.findall(rest):
        options[name] = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\") if raw.startswith('"') else raw
    if not options.get("username") or "password" not in options:
        raise ClientConfigError(path, line, 'sasl.jaas.config has no username="..." password="..."')
    return kind, options


def _map_jaas(props: dict[str, Entry], kafka: dict[str, str], path: str) -> None:
    entry = props.get("sasl.jaas.config")
    if entry is None:
        return
    kind, options = parse_jaas(entry.value, path, entry.line)
    kafka.setdefault("sasl.username", options["username"])
    kafka.setdefault("sasl.password", options["password"])
    mechanism = kafka.get("sasl.mechanism")
    if kind == "PLAIN":
        kafka.setdefault("sasl.mechanism", "PLAIN")
    elif not mechanism or not mechanism.upper().startswith("SCRAM"):
        raise ClientConfigError(
            path, entry.line, "ScramLoginModule needs sasl.mechanism=SCRAM-SHA-512 (or SCRAM-SHA-256)"
        )


def _map_truststore(props: dict[str, Entry], kafka: dict[str, str], path: str) -> None:
    store = props.get("ssl.truststore.location")
    if store is None or "ssl.ca.location" in kafka:
        return
    kind = props.get("ssl.truststore.type")
    if kind is None or kind.value.upper() != "PEM":
        line = kind.line if kind else store.line
        raise ClientConfigError(
            path,
            line,
            "ssl.truststore.location needs ssl.truststore.type=PEM (a JKS/PKCS12 store is Java's only)",
        )
    kafka["ssl.ca.location"] = store.value


def _user_info(props: dict[str, Entry], *keys: str) -> str | None:
    for key in keys:
        entry = props.get(key)
        if entry is not None and entry.value:
            return entry.value
    return None


def _check_user_info(value: str | None, props: dict[str, Entry], path: str, *keys: str) -> None:
    if value is not None and ":" not in value:
        line = next((props[k].line for k in keys if k in props), None)
        raise ClientConfigError(path, line, f"{keys[0]} must be user:password")


def client_config_from(props: dict[str, Entry], path: str) -> ClientConfig:
    """The mapped config of parsed ``props`` (ClientConfigError naming a bad line)."""
    kafka: dict[str, str] = {}
    ignored: list[str] = []
    for key, entry in props.items():
        if key == "ssl.endpoint.identification.algorithm":
            kafka[key] = entry.value.lower() or "none"
        elif key.startswith(_JAVA_ONLY_PREFIXES):
            ignored.append(key)
        else:
            kafka[key] = entry.value
    _map_jaas(props, kafka, path)
    _map_truststore(props, kafka, path)
    for key in ignored:
        log.debug("%s: %s is not a librdkafka setting; left out for librdkafka", path, key)
    registry_keys = ("schema.registry.basic.auth.user.info", "basic.auth.user.info")
    proxy_keys = ("rest.proxy.basic.auth.user.info",)
    registry_auth = _user_info(props, *registry_keys)
    proxy_auth = _user_info(props, *proxy_keys)
    _check_user_info(registry_auth, props, path, *registry_keys)
    _check_user_info(proxy_auth, props, path, *proxy_keys)

    def value(key: str) -> str | None:
        entry = props.get(key)
        return entry.value if entry is not None and entry.value else None

    return ClientConfig(
        path=path,
        kafka=kafka,
        registry_url=value("schema.registry.url"),
        registry_auth=registry_auth,
        registry_ca=value("schema.registry.ssl.ca.location"),
        rest_proxy_url=value("rest.proxy.url"),
        rest_proxy_auth=proxy_auth,
        rest_proxy_ca=value("rest.proxy.ssl.ca.location"),
        ignored=tuple(ignored),
        lines={key: entry.line for key, entry in props.items()},
    )


def read_client_config(path: str | Path) -> ClientConfig:
    """The client config in file ``path``; ClientConfigError when it is missing, not
    readable or malformed (naming the file and the line)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ClientConfigError(name, None, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ClientConfigError(name, None, f"cannot read it ({type(exc).__name__}: {exc})") from None
    props = parse_properties(text, name)
    for key in _FILE_KEYS:
        entry = props.get(key)
        if entry is not None and entry.value and not Path(entry.value).is_file():
            raise ClientConfigError(name, entry.line, f"{key}: no such file {entry.value}")
    return client_config_from(props, name)


# ---------------------------------------------------------------- mappers


def aiokafka_kwargs(kafka: Mapping[str, str]) -> dict[str, Any]:
    """aiokafka's security keyword arguments for librdkafka settings ``kafka`` (an SSL
    context from ``ssl.ca.location`` for SSL and SASL_SSL; nothing for PLAINTEXT)."""
    protocol = (kafka.get("security.protocol") or "PLAINTEXT").upper()
    out: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        out["ssl_context"] = ssl_context(
            kafka.get("ssl.ca.location"),
            kafka.get("ssl.certificate.location"),
            kafka.get("ssl.key.location"),
            check_hostname=kafka.get("ssl.endpoint.identification.algorithm", "https") != "none",
        )
    if protocol.startswith("SASL"):
        out["sasl_mechanism"] = (kafka.get("sasl.mechanism") or "PLAIN").upper()
        out["sasl_plain_username"] = kafka.get("sasl.username")
        out["sasl_plain_password"] = kafka.get("sasl.password")
    return out


def ssl_context(
    cafile: str | None,
    certfile: str | None = None,
    keyfile: str | None = None,
    *,
    check_hostname: bool = True,
) -> ssl.SSLContext:
    """A client TLS context trusting ``cafile`` (the system's CAs without one)."""
    context = ssl.create_default_context(cafile=cafile)
    context.check_hostname = check_hostname
    if certfile:
        context.load_cert_chain(certfile, keyfile)
    return context


def jaas_config(mechanism: str, username: str, password: str) -> str:
    """A Java ``sasl.jaas.config`` value for a user and password."""
    module = next(m for m, kind in _JAAS_MODULES.items() if mechanism.upper().startswith(kind))

    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return f"{module} required username={quoted(username)} password={quoted(password)};"


def java_properties(kafka: Mapping[str, str]) -> dict[str, str]:
    """The Java client's security settings for librdkafka settings ``kafka`` (a Connect
    worker's own clients): SASL as ``sasl.jaas.config``, the CA as a PEM truststore."""
    out: dict[str, str] = {}
    protocol = kafka.get("security.protocol")
    if protocol:
        out["security.protocol"] = protocol.upper()
    mechanism = kafka.get("sasl.mechanism")
    username, password = kafka.get("sasl.username"), kafka.get("sasl.password")
    if mechanism:
        out["sasl.mechanism"] = mechanism.upper()
    if username and password is not None:
        out["sasl.jaas.config"] = jaas_config(mechanism or "PLAIN", username, password)
    if kafka.get("ssl.ca.location"):
        out["ssl.truststore.type"] = "PEM"
        out["ssl.truststore.location"] = kafka["ssl.ca.location"]
    if kafka.get("ssl.endpoint.identification.algorithm") == "none":
        out["ssl.endpoint.identification.algorithm"] = ""
    return out


def connect_worker_properties(kafka: Mapping[str, str]) -> dict[str, str]:
    """A Connect worker's security settings: its own, and the same for the producers,
    consumers and admin clients it makes for connectors (``producer.`` ...)."""
    own = java_properties(kafka)
    out = dict(own)
    for prefix in ("producer.", "consumer.", "admin."):
        out.update({prefix + k: v for k, v in own.items()})
    return out


def http_auth(user_info: str | None) -> tuple[str, str] | None:
    """``user:password`` as (user, password) for HTTP basic auth; None without one."""
    if not user_info or ":" not in user_info:
        return None
    user, _, password = user_info.partition(":")
    return user, password


def http_verify(ca: str | None) -> ssl.SSLContext | bool:
    """What httpx's ``verify`` gets: a context trusting ``ca``, else the system's CAs."""
    return ssl_context(ca) if ca else True
