"""What the Java services share: JVM options, the log4j2 configuration, properties files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cta_core.log_limits import LogLimits

#: Small heaps for a small machine; serial GC and C1 only (startup time over peak throughput,
#: measured in bench/bench_stack.py).
JVM_OPTIONS: tuple[str, ...] = (
    "-Xms64m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
    "-Dfile.encoding=UTF-8",
)

LOG4J2_XML = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by cta-stack: each JVM logs to logs/<service>.log (the system property
     cta.log.file), rolled over by size to <service>.log.1 ... (cta.log.max.bytes, cta.log.backups) -->
<Configuration status="WARN">
  <Appenders>
    <RollingFile name="FILE" fileName="${sys:cta.log.file}" filePattern="${sys:cta.log.file}.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <Policies>
        <SizeBasedTriggeringPolicy size="${sys:cta.log.max.bytes}"/>
      </Policies>
      <DefaultRolloverStrategy fileIndex="min" min="1" max="${sys:cta.log.backups}"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
    <Logger name="org.apache.kafka.common.config" level="WARN"/>
    <Logger name="org.apache.kafka.common.utils.AppInfoParser" level="WARN"/>
    <Logger name="org.apache.kafka.connect.runtime.isolation" level="WARN"/>
    <Logger name="org.reflections" level="ERROR"/>
    <Logger name="org.eclipse.jetty" level="WARN"/>
    <Logger name="kafka.log" level="WARN"/>
    <Logger name="org.apache.kafka.storage" level="WARN"/>
    <Root level="INFO">
      <AppenderRef ref="FILE"/>
    </Root>
  </Loggers>
</Configuration>
"""


def render_properties(values: Mapping[str, object], header: str = "") -> str:
    """A Java properties file (values are plain: no escaping needed for what we write)."""
    lines = [f"# {line}" for line in header.splitlines()] if header else []
    lines += [f"{key}={value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def java_argv(
    java: str,
    *,
    heap: str,
    classpath: str,
    log4j2: Path,
    log_file: Path,
    limits: LogLimits,
    main: str,
    args: list[str],
    extra_options: list[str] | None = None,
) -> list[str]:
    """The JVM command line; ``extra_options`` (CTA_JVM_OPTS) come last, so they win.
    log4j2 writes ``log_file``, rolled over at ``limits``."""
    return [
        java,
        f"-Xmx{heap}",
        *JVM_OPTIONS,
        *(extra_options or []),
        f"-Dlog4j2.configurationFile={log4j2}",
        f"-Dcta.log.file={log_file}",
        f"-Dcta.log.max.bytes={limits.max_bytes}",
        f"-Dcta.log.backups={limits.backups}",
        "-cp",
        classpath,
        main,
        *args,
    ]


def write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
