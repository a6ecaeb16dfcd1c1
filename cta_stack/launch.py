"""How each service is started: its one-time preparation, its configuration files and
its command line, then a detached, pid-tracked process (see :mod:`cta_stack.supervisor`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cta_core.log_limits import LogLimits
from cta_core.settings import Settings
from cta_stack import connect as connect_mod
from cta_stack import kafka as kafka_mod
from cta_stack import postgres as postgres_mod
from cta_stack import secure_servers as secure_mod
from cta_stack.errors import StackError
from cta_stack.jars import Jars
from cta_stack.jvm import LOG4J2_XML, java_argv, write_if_changed
from cta_stack.paths import StackLayout
from cta_stack.secure_files import SecureFiles
from cta_stack.services import ServiceSpec
from cta_stack.supervisor import ProcessRecord, spawn

#: Variables that point a client at a secured cluster (kept from the stack's plain services).
CLIENT_SECURITY_VARS = frozenset(
    {
        "CTA_CLIENT_CONFIG",
        "CTA_SECURITY_PROTOCOL",
        "CTA_SASL_MECHANISM",
        "CTA_SASL_USERNAME",
        "CTA_SASL_PASSWORD",
        "CTA_SSL_CA_LOCATION",
        "CTA_SCHEMA_REGISTRY_AUTH",
        "CTA_KAFKA_CONFIG",
    }
)


class Launcher:
    def __init__(
        self,
        settings: Settings,
        layout: StackLayout,
        jars: Jars,
        env: Mapping[str, str],
        secure: SecureFiles | None = None,
    ):
        self.settings = settings
        self.layout = layout
        self.jars = jars
        self.env = dict(env)
        self.secure = secure

    def launch(self, spec: ServiceSpec, java: str | None) -> ProcessRecord:
        """Start ``spec``; ``java`` is the checked Java for JVM services."""
        if spec.java and java is None:
            raise StackError(f"{spec.title} needs Java, which was not checked")
        if spec.name == "postgres":
            return self._postgres(spec)
        if spec.broker:
            assert java is not None
            return self._kafka(spec, java)
        if spec.name == "connect":
            assert java is not None
            return self._connect(spec, java)
        if spec.module is not None:
            return self._python_server(spec)
        raise StackError(f"no launcher for {spec.name}")  # a new table entry needs one

    def _spawn(
        self,
        spec: ServiceSpec,
        argv: list[str],
        user: str | None = None,
        log_file: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ProcessRecord:
        return spawn(
            spec.name,
            argv,
            pidfile=self.layout.pidfile(spec.name),
            log_file=log_file or self.layout.log_file(spec.name),
            env=self.env if env is None else env,
            cwd=self.layout.root,
            user=user,
        )

    def _python_server(self, spec: ServiceSpec) -> ProcessRecord:
        """The Schema Registry or REST Proxy; on a secured stack over HTTPS with basic auth,
        its Kafka clients as its own principal (its client configuration in its environment)."""
        argv = spec.module_argv(self.settings)
        if self.secure is None:
            # the stack's own plain services: a client config or SASL settings exported for
            # the user's clients must not reach them
            plain = {k: v for k, v in self.env.items() if k not in CLIENT_SECURITY_VARS}
            return self._spawn(spec, argv, env=plain)
        principal = secure_mod.SERVER_PRINCIPALS[spec.name]
        argv += secure_mod.server_args(self.secure)
        return self._spawn(spec, argv, env={**self.env, **secure_mod.server_env(self.secure, principal)})

    def _log4j2(self) -> Path:
        path = self.layout.config_dir / "log4j2.xml"
        write_if_changed(path, LOG4J2_XML)
        return path

    def _jvm_extra(self) -> list[str]:
        """CTA_JVM_OPTS: extra JVM options for Kafka and Connect (they come last and win)."""
        return self.env.get("CTA_JVM_OPTS", "").split()

    def _postgres(self, spec: ServiceSpec) -> ProcessRecord:
        data = self.layout.data_dir("postgres")
        if not postgres_mod.is_initialised(data):
            postgres_mod.initialise(data, self.layout.log_file(spec.name))
        else:
            postgres_mod.prepare_user_and_permissions(data)
        argv = postgres_mod.server_argv(data, spec.port(self.settings.ports), socket_dir=data)
        return self._spawn(spec, argv, user=postgres_mod.run_as())

    def _kafka(self, spec: ServiceSpec, java: str) -> ProcessRecord:
        node = spec.broker
        data = self.layout.data_dir(spec.name)  # data/kafka, data/kafka-2 ...
        data.mkdir(parents=True, exist_ok=True)
        config = self.layout.config_dir / ("server.properties" if node == 1 else f"server-{node}.properties")
        text = kafka_mod.render_server_properties(self.settings.ports, data, node, self.secure)
        write_if_changed(config, text)
        config.chmod(0o600)  # a secured broker's holds admin's password
        classpath = self.jars.classpath()
        if not kafka_mod.is_formatted(data):
            cluster = kafka_mod.cluster_id(self.layout.root / "kafka-cluster-id")
            log = self.layout.log_file(spec.name)
            kafka_mod.format_storage(
                java, classpath, config, cluster, log, kafka_mod.add_scram_args(self.secure)
            )
        argv = java_argv(
            java,
            heap=kafka_mod.heap(self.settings.ports.kafka_brokers),
            classpath=classpath,
            log4j2=self._log4j2(),
            log_file=self.layout.log_file(spec.name),
            limits=LogLimits.from_env(self.env),
            main=kafka_mod.MAIN,
            args=[str(config)],
            extra_options=self._jvm_extra(),
        )
        return self._spawn(spec, argv, log_file=self.layout.out_file(spec.name))

    def _connect(self, spec: ServiceSpec, java: str) -> ProcessRecord:
        config = self.layout.config_dir / "connect.properties"
        write_if_changed(
            config,
            connect_mod.render_worker_properties(self.settings.ports, self.jars.plugin_path, self.secure),
        )
        config.chmod(0o600)
        argv = java_argv(
            java,
            heap=connect_mod.HEAP,
            classpath=self.jars.classpath(),
            log4j2=self._log4j2(),
            log_file=self.layout.log_file(spec.name),
            limits=LogLimits.from_env(self.env),
            main=connect_mod.MAIN,
            args=[str(config)],
            extra_options=self._jvm_extra(),
        )
        return self._spawn(spec, argv, log_file=self.layout.out_file(spec.name))
