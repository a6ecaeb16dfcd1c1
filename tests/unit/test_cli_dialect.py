"""The five commands' one dialect, checked over every command and subcommand that
pyproject's [project.scripts] names: -h, --version, -v/-q anywhere, no password in any
help, the one error form and exit codes; docs/cli.md and docs/troubleshooting.md are
what tools/docs_gen.py writes, and every error the code raises has a troubleshooting row."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cta_core.settings import DEV_DB_PASSWORD
from cta_core.troubles import TROUBLES, find, with_fix
from tests.support.ports import closed_port

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

import cli_docs as docs_gen  # noqa: E402


def _every_command() -> list[tuple[str, click.Command]]:
    out = []

    def walk(path: str, command: click.Command, parent: click.Context | None) -> None:
        out.append((path, command))
        ctx = click.Context(command, info_name=path.split()[-1], parent=parent)
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                walk(f"{path} {name}", sub, ctx)

    for name, command in docs_gen.entry_commands():
        walk(name, command, None)
    return out


COMMANDS = _every_command()


def test_the_five_commands_are_all_there() -> None:
    roots = {path for path, _ in COMMANDS if " " not in path}
    assert roots == {"cta-sim", "cta-weather", "cta-jobs", "cta-stack", "cta-tui"}
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_has_help_version_verbose_and_quiet(path: str, command: click.Command) -> None:
    assert (command.context_settings or {}).get("help_option_names") == ["-h", "--help"], path
    flags = {opt for p in command.params for opt in p.opts}
    assert {"-v", "--verbose", "-q", "--quiet", "--version"} <= flags, path


def test_one_variable_per_flag_and_one_flag_per_variable() -> None:
    """A setting has one name and one CTA_* variable, the same in every command."""
    var_of: dict[str, set[str]] = {}
    flag_of: dict[str, set[str]] = {}
    for _path, command in COMMANDS:
        for param in command.params:
            envvar = getattr(param, "envvar", None)
            if isinstance(param, click.Option) and envvar:
                flag = max(param.opts, key=len)
                var_of.setdefault(flag, set()).add(str(envvar))
                flag_of.setdefault(str(envvar), set()).add(flag)
    assert {f: v for f, v in var_of.items() if len(v) > 1} == {}
    assert {v: f for v, f in flag_of.items() if len(f) > 1} == {}
    assert all(v.startswith("CTA_") for v in flag_of)
    assert var_of["--broker-wait"] == {"CTA_BROKER_WAIT"} and var_of["--topic-suffix"] == {"CTA_TOPIC_SUFFIX"}


def test_help_never_shows_a_password() -> None:
    for path, command in COMMANDS:
        ctx = click.Context(command, info_name=path)
        assert f":{DEV_DB_PASSWORD}@" not in command.get_help(ctx), path


def test_version_names_librdkafka_and_kafka() -> None:
    from cta_stack.cli import cli

    out = CliRunner().invoke(cli, ["up", "--version"], prog_name="cta-stack")
    assert out.exit_code == 0
    assert re.fullmatch(r"cta-stack \(cta-live [\w.]+\), librdkafka [\d.]+, Kafka [\d.]+\n", out.output)


def test_verbose_after_the_subcommand_and_the_one_error_form() -> None:
    from stream_jobs.cli import main

    servers = f"127.0.0.1:{closed_port()}"
    result = CliRunner().invoke(
        main, ["faust", "-v", "-q", "--bootstrap-servers", servers, "--broker-wait", "0"]
    )
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"cta-jobs: error: Kafka at {servers} is not reachable")
    assert "; start the local stack with `cta-stack up`" in result.output


def test_usage_errors_exit_2_in_the_one_form() -> None:
    from cta_tui.cli import main

    result = CliRunner().invoke(main, ["tail", "t", "--no-such-flag"])
    assert result.exit_code == 2
    assert result.output == "cta-tui: error: no such option: --no-such-flag; see 'cta-tui tail --help'\n"


def test_the_generated_docs_are_current() -> None:
    """docs/cli.md and docs/troubleshooting.md as `python tools/docs_gen.py` writes them
    (in a clean environment: CTA_* variables would change the defaults --help shows)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTA_")}
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "docs_gen.py"), "--check"],
        env=env,
        cwd=REPO / "tools",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------- troubleshooting table

ERRORS = {
    "CtaError",
    "StackError",
    "ServiceFailed",
    "PortInUse",
    "ServiceUnavailable",
    "KsqlError",
    "ConnectorFailed",
    "UnknownTopic",
    "NoUsableConnector",
}
PACKAGES = ["cta_core", "cta_stack", "cta_tui", "producers_sim", "stream_jobs"]


def _raised_messages() -> list[tuple[str, str]]:
    """(where, fixed text) of every error the code constructs: the first words of its
    message (an f-string's text before its first value), or the service's name."""
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                    continue
                if node.func.id not in ERRORS or not node.args:
                    continue
                arg = node.args[-1] if node.func.id == "ConnectorFailed" else node.args[0]
                if isinstance(arg, ast.IfExp):
                    arg = arg.body
                pieces = [arg] if isinstance(arg, ast.Constant) else getattr(arg, "values", [])
                texts = [p.value for p in pieces if isinstance(p, ast.Constant) and isinstance(p.value, str)]
                text = max(texts, key=len, default="").strip(" :;(")[:30]
                if len(text) >= 4:
                    found.append((f"{path.relative_to(REPO)}:{node.lineno}", text))
    return found


def test_every_error_the_code_raises_has_a_troubleshooting_row() -> None:
    raised = _raised_messages()
    assert len(raised) >= 30
    rows = " ".join(t.message for t in TROUBLES)
    missing = [f"{where}: {text!r}" for where, text in raised if text not in rows]
    assert not missing, "errors without a row in cta_core/troubles.py:\n" + "\n".join(missing)


def test_rows_match_the_messages_as_printed() -> None:
    port_busy = "port 9092 (Kafka) is already in use by java (pid 7); stop that process or move Kafka"
    assert find(port_busy) is not None and "already in use" in find(port_busy).message  # type: ignore[union-attr]
    assert find("Kafka at h:1 is not reachable (refused); start the local stack") is TROUBLES[0]
    assert with_fix("initdb failed (exit 1)").startswith("initdb failed (exit 1); `cta-stack logs postgres`")
    assert with_fix("a message; with its fix") == "a message; with its fix"
    assert with_fix("nothing the table knows") == "nothing the table knows"
