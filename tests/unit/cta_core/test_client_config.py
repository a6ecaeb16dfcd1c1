"""The client config file: Kafka's properties format parsed (comments, continuation
lines, escapes, the three separators, bad lines named by number) and mapped for each
client (librdkafka, aiokafka, a Connect worker's Java properties, the registry, the REST
Proxy), with Settings' precedence and every password masked."""

from __future__ import annotations

import ssl
from pathlib import Path

import certifi
import pytest

from cta_core.client_config import (
    ClientConfigError,
    aiokafka_kwargs,
    connect_worker_properties,
    java_properties,
    parse_properties,
    read_client_config,
)
from cta_core.settings import Settings

JAAS = (
    'org.apache.kafka.common.security.scram.ScramLoginModule required username="faust" password="s3cr=t; q";'
)


def write(tmp_path: Path, text: str, name: str = "client.properties") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_properties_format_comments_separators_continuations_and_escapes() -> None:
    text = (
        "# a comment\n"
        "   ! another one\n"
        "\n"
        "bootstrap.servers = b1:9092,\\\n"
        "    b2:9092\n"
        "security.protocol:SASL_SSL\n"
        "sasl.mechanisms SCRAM-SHA-512\n"
        "sasl.username=sim\n"
        "sasl.password=pa\\u0073s=word#not-a-comment\n"
        "path\\ with\\ spaces=C:\\\\ca.pem\n"
    )
    props = {k: e.value for k, e in parse_properties(text).items()}
    assert props == {
        "bootstrap.servers": "b1:9092,b2:9092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",  # librdkafka's plural alias, one name
        "sasl.username": "sim",
        "sasl.password": "pass=word#not-a-comment",
        "path with spaces": "C:\\ca.pem",
    }
    assert parse_properties(text)["security.protocol"].line == 6


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("bootstrap.servers=x\njust-a-word\n", 2, "expected key=value, got 'just-a-word'"),
        ("# c\n=value\n", 2, "expected key=value"),
        ("sasl.mechanism=PLAIN\nsasl.jaas.config=com.example.Login required;\n", 2, "login module"),
        (
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required;",
            1,
            "username",
        ),
        ("sasl.jaas.config=" + JAAS + "\n", 1, "ScramLoginModule needs sasl.mechanism"),
        (
            f"ssl.truststore.location={certifi.where()}\nssl.truststore.type=JKS\n",
            2,
            "ssl.truststore.type=PEM",
        ),
        ("schema.registry.url=https://r\nbasic.auth.user.info=nocolon\n", 2, "user:password"),
        ("ssl.ca.location=/no/such/ca.pem\n", 1, "ssl.ca.location: no such file /no/such/ca.pem"),
    ],
)
def test_a_bad_line_is_named_by_file_and_number(tmp_path: Path, text: str, line: int, what: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ClientConfigError) as err:
        read_client_config(path)
    assert str(err.value).startswith(f"{path} line {line}: ")
    assert what in str(err.value)
    assert "s3cr" not in str(err.value)


def test_a_missing_or_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ClientConfigError, match=r"nope\.properties: no such file"):
        read_client_config(tmp_path / "nope.properties")
    with pytest.raises(ClientConfigError, match="cannot read it"):
        read_client_config(tmp_path)  # a directory


def test_java_keys_are_mapped_and_java_only_keys_left_out(tmp_path: Path) -> None:
    cfg = read_client_config(
        write(
            tmp_path,
            "bootstrap.servers=k:9093\n"
            "security.protocol=SASL_SSL\n"
            "sasl.mechanism=SCRAM-SHA-512\n"
            f"sasl.jaas.config={JAAS}\n"
            "ssl.truststore.type=PEM\n"
            f"ssl.truststore.location={certifi.where()}\n"
            "ssl.endpoint.identification.algorithm=\n"
            "client.dns.lookup=use_all_dns_ips\n"
            "key.serializer=org.apache.kafka.common.serialization.StringSerializer\n"
            "schema.registry.url=https://registry:8081\n"
            "basic.auth.credentials.source=USER_INFO\n"
            "schema.registry.basic.auth.user.info=registry-user:rpw\n"
            f"schema.registry.ssl.ca.location={certifi.where()}\n"
            "rest.proxy.url=https://proxy:8082\n"
            "rest.proxy.basic.auth.user.info=weather:wpw\n",
        )
    )
    assert cfg.kafka == {
        "bootstrap.servers": "k:9093",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "faust",
        "sasl.password": "s3cr=t; q",
        "ssl.ca.location": certifi.where(),
        "ssl.endpoint.identification.algorithm": "none",
    }
    assert set(cfg.ignored) >= {"sasl.jaas.config", "client.dns.lookup", "key.serializer", "rest.proxy.url"}
    assert (cfg.registry_url, cfg.registry_auth, cfg.registry_ca) == (
        "https://registry:8081",
        "registry-user:rpw",
        certifi.where(),
    )
    assert (cfg.rest_proxy_url, cfg.rest_proxy_auth) == ("https://proxy:8082", "weather:wpw")
    assert "s3cr" not in repr(cfg) and "rpw" not in repr(cfg) and "wpw" not in repr(cfg)


def test_a_plain_login_module_gives_its_mechanism() -> None:
    from cta_core.client_config import client_config_from

    jaas = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="k" password="v";'
    cfg = client_config_from(parse_properties(f"sasl.jaas.config={jaas}\n"), "f")
    assert (cfg.kafka["sasl.mechanism"], cfg.kafka["sasl.username"], cfg.kafka["sasl.password"]) == (
        "PLAIN",
        "k",
        "v",
    )


def test_aiokafka_arguments_with_an_ssl_context_from_the_ca(tmp_path: Path) -> None:
    plain = aiokafka_kwargs({"bootstrap.servers": "b:1"})
    assert plain == {"security_protocol": "PLAINTEXT"}
    sasl = aiokafka_kwargs(
        {
            "security.protocol": "sasl_plaintext",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": "u",
            "sasl.password": "p",
        }
    )
    assert sasl == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "u",
        "sasl_plain_password": "p",
    }
    secured = aiokafka_kwargs({"security.protocol": "SASL_SSL", "sasl.username": "u", "sasl.password": "p"})
    assert isinstance(secured["ssl_context"], ssl.SSLContext) and secured["ssl_context"].check_hostname
    assert secured["sasl_mechanism"] == "PLAIN"
    with pytest.raises((FileNotFoundError, ssl.SSLError)):
        aiokafka_kwargs({"security.protocol": "SSL", "ssl.ca.location": str(tmp_path / "missing.pem")})


def test_java_properties_for_a_connect_worker() -> None:
    kafka = {
        "bootstrap.servers": "k:9093",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "connect",
        "sasl.password": "p=w;x",
        "ssl.ca.location": "/ca.pem",
    }
    java = java_properties(kafka)
    assert java == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required username="connect" password="p=w;x";',
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": "/ca.pem",
    }
    worker = connect_worker_properties(kafka)
    for prefix in ("", "producer.", "consumer.", "admin."):
        assert worker[prefix + "sasl.mechanism"] == "SCRAM-SHA-512"
    # the jaas value written back reads as the same user and password
    cfg = parse_properties(
        "sasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=" + java["sasl.jaas.config"] + "\n"
    )
    from cta_core.client_config import client_config_from

    assert client_config_from(cfg, "f").kafka["sasl.password"] == "p=w;x"


def test_connect_worker_properties_point_at_the_file_s_cluster(tmp_path: Path) -> None:
    from cta_core.ports import Ports
    from cta_stack.connect import worker_properties

    local = worker_properties(Ports(), tmp_path)
    assert "security.protocol" not in local
    remote = worker_properties(
        Ports(),
        tmp_path,
        {
            "bootstrap.servers": "k:9093",
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "PLAIN",
            "sasl.username": "c",
            "sasl.password": "p",
        },
    )
    assert remote["bootstrap.servers"] == "k:9093" and remote["producer.security.protocol"] == "SASL_SSL"


def test_settings_precedence_flag_then_variable_then_file_then_default(tmp_path: Path) -> None:
    ca = certifi.where()
    path = write(
        tmp_path,
        "bootstrap.servers=file:9093\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
        f"sasl.username=dash\nsasl.password=filepw\nssl.ca.location={ca}\nssl.certificate.location={ca}\n"
        "schema.registry.url=https://reg\nbasic.auth.user.info=dash:regpw\n"
        "rest.proxy.url=https://proxy\nrest.proxy.basic.auth.user.info=w:ppw\n",
    )
    env = {
        "CTA_CLIENT_CONFIG": str(path),
        "CTA_SASL_USERNAME": "from-env",
        "CTA_KAFKA_CONFIG": "ssl.certificate.location=/x.pem",
    }
    s = Settings.from_env(env, bootstrap_servers="flag:1")
    assert s.bootstrap_servers == "flag:1"  # flag
    assert s.sasl_username == "from-env"  # variable over file
    assert (s.sasl_password, s.schema_registry_url, s.rest_proxy_url) == (
        "filepw",
        "https://reg",
        "https://proxy",
    )
    conf = s.librdkafka(**{"client.id": "x"})
    assert conf["ssl.certificate.location"] == "/x.pem"  # -X / CTA_KAFKA_CONFIG win last
    assert conf["security.protocol"] == "SASL_SSL" and conf["ssl.ca.location"] == ca
    assert s.registry_conf() == {
        "url": "https://reg",
        "basic.auth.user.info": "dash:regpw",
        "ssl.ca.location": ca,
    }
    assert s.rest_proxy_http()["auth"] == ("w", "ppw")
    assert isinstance(s.rest_proxy_http()["verify"], ssl.SSLContext)
    assert s.kafka_principal() == "User:from-env"
    shown = f"{s!r} {s.redacted()}"
    for secret in ("filepw", "regpw", "ppw"):
        assert secret not in shown
    default = Settings.from_env({})
    assert default.bootstrap_servers.startswith("127.0.0.1:") and default.client_config is None


def test_a_bad_file_in_the_environment_is_an_error_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, "bootstrap.servers\n")
    with pytest.raises(ClientConfigError, match=rf"{path} line 1"):
        Settings.from_env({"CTA_CLIENT_CONFIG": str(path)})


def test_dashboard_sessions_get_the_file(tmp_path: Path) -> None:
    """An SSH or browser session's dashboard runs with the server's client config file."""
    from cta_tui.ssh.session import child_environment, settings_env

    path = write(
        tmp_path, "sasl.username=dashboard\nsasl.password=pw\nrest.proxy.basic.auth.user.info=w:ppw\n"
    )
    settings = Settings.from_env({"CTA_CLIENT_CONFIG": str(path)})
    env = settings_env(settings)
    assert env["CTA_CLIENT_CONFIG"] == str(path.resolve())
    child = child_environment("xterm", {"CTA_CLIENT_CONFIG": "/evil"}, {}, settings)
    assert child["CTA_CLIENT_CONFIG"] == str(path.resolve())  # the client cannot choose another
    assert Settings.from_env(child).rest_proxy_http()["auth"] == ("w", "ppw")
