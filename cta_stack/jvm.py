"""What the Java services share: JVM options, the log4j2 configuration, properties files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

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
<!-- Written by cta-stack: everything to stdout, which cta-stack sends to logs/<service>.log -->
<Configuration status="WARN">
  <Appenders>
    <Console name="STDOUT" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
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
      <AppenderRef ref="STDOUT"/>
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
    main: str,
    args: list[str],
    extra_options: list[str] | None = None,
) -> list[str]:
    """The JVM command line; ``extra_options`` (CTA_JVM_OPTS) come last, so they win."""
    return [
        java,
        f"-Xmx{heap}",
        *JVM_OPTIONS,
        *(extra_options or []),
        f"-Dlog4j2.configurationFile={log4j2}",
        "-cp",
        classpath,
        main,
        *args,
    ]


def write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
