"""Write docs/cli.md (every command's and subcommand's --help, from the click commands
named in pyproject's [project.scripts]) and docs/troubleshooting.md (from
cta_core.troubles.TROUBLES).

    python tools/docs_gen.py          # write both
    python tools/docs_gen.py --check  # exit 1 when either is stale (a unit test runs this)

Run it with no CTA_* variables set, from any directory: --help shows defaults that
CTA_*_PORT variables would move.
"""

from __future__ import annotations

import importlib
import sys
import tomllib
from pathlib import Path

import click

REPO = Path(__file__).resolve().parents[1]
WIDTH = 100

CLI_PREFACE = """\
# Command line

Five commands, one dialect. This page is generated from the commands themselves
(`python tools/docs_gen.py`); a test fails when it is stale.

- Every command and subcommand takes `-h/--help`, `--version` (cta-live's version with
  librdkafka's and the Kafka the local stack runs) and `-v`/`-q` anywhere on the line:
  `-v` more logging (`-vv` debug, librdkafka's own lines included), `-q` less.
- One flag and one environment variable per setting, the same in every command that
  has it: the variable is `CTA_` and the flag's name (`--broker-wait`: `CTA_BROKER_WAIT`);
  `--help` lists each. A flag beats its variable, which beats the default. Group ids
  (`--group-id`) have no variable: one exported value would put two jobs in one group.
- Connection flags appear only on the commands that use that service. librdkafka
  settings with no flag of their own pass through with `-X key=value` (as kcat's `-X`).
- `--topic-suffix S` renames the same topics everywhere: the data topics (arrivals,
  turnstiles, weather, stations table, TURNSTILE_SUMMARY, predictions and their state),
  never the control and status topics or Connect's rows.
- `-c/--count N` stops after N events, readings or records.
- Errors are one line on stderr: `cta-X: error: <what>; <what to do>`
  ([troubleshooting.md](troubleshooting.md) lists them all).
- Exit codes: 0 ok, 1 failure (a service unreachable, a job failed), 2 usage (a bad flag
  or value), 130 interrupted by ctrl+c.

## Shell completion

Every command completes its subcommands, flags and choices in bash, zsh and fish
through click's completion: the shell asks the command itself, with the variable
`_CTA_X_COMPLETE` (the command's name upper-cased, dashes as underscores) set to the
shell's source mode. Add one line per command to your shell's start-up file, e.g. for
bash in `~/.bashrc`:

```bash
eval "$(_CTA_TUI_COMPLETE=bash_source cta-tui)"
eval "$(_CTA_STACK_COMPLETE=bash_source cta-stack)"
eval "$(_CTA_JOBS_COMPLETE=bash_source cta-jobs)"
eval "$(_CTA_SIM_COMPLETE=bash_source cta-sim)"
eval "$(_CTA_WEATHER_COMPLETE=bash_source cta-weather)"
```

zsh: `zsh_source` in `~/.zshrc`; fish: `_CTA_TUI_COMPLETE=fish_source cta-tui | source`
in `~/.config/fish/completions/cta-tui.fish`. To start faster, write the script to a
file once (`_CTA_TUI_COMPLETE=bash_source cta-tui > ~/.cta-tui-complete.bash`) and
source that file instead.
"""

TROUBLE_PREFACE = """\
# Troubleshooting

Every error a command prints is one line on stderr, `cta-X: error: <what>; <what to do>`,
and the exit code says which kind: 1 a failure, 2 a usage error, 130 interrupted. This
page lists every such line (`<...>` stands for a value), which commands print it, its
usual cause and what to do. It is generated from the table the commands use
(`cta_core/troubles.py`, `python tools/docs_gen.py`); a test fails when a command can
raise an error that the table lacks.

Library logs (librdkafka's connection attempts, Python warnings) never reach the
terminal; `-v` shows them on stderr and `-vv` adds debug. The dashboard writes its logs to
`--log-file` (`CTA_LOG_FILE`), and `cta-stack logs SERVICE` shows a service's log.
"""


def entry_commands(pyproject: Path = REPO / "pyproject.toml") -> list[tuple[str, click.Command]]:
    """(name, click command) of every console script, in pyproject's order."""
    scripts = tomllib.loads(pyproject.read_text())["project"]["scripts"]
    out = []
    for name, target in scripts.items():
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        if not isinstance(command, click.Command):
            raise SystemExit(f"{name}: {target} is not a click command")
        out.append((name, command))
    return out


def _sections(command: click.Command, path: list[str], parent: click.Context | None) -> list[str]:
    ctx = click.Context(
        command,
        info_name=path[-1],
        parent=parent,
        terminal_width=WIDTH,
        max_content_width=WIDTH,
        **(command.context_settings or {}),
    )
    level = "#" * min(len(path) + 1, 4)
    text = command.get_help(ctx).rstrip()
    out = [f"{level} {' '.join(path)}\n\n```text\n{text}\n```\n"]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                out += _sections(sub, [*path, name], ctx)
    return out


def cli_markdown() -> str:
    parts = [CLI_PREFACE]
    for name, command in entry_commands():
        parts += _sections(command, [name], None)
    return "\n".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def troubleshooting_markdown() -> str:
    from cta_core.troubles import TROUBLES

    rows = ["| error (after `cta-X: error: `) | printed by | cause | what to do |", "|---|---|---|---|"]
    rows += [
        f"| `{_cell(t.message)}` | {_cell(t.commands)} | {_cell(t.cause)} | {_cell(t.fix)} |"
        for t in TROUBLES
    ]
    return TROUBLE_PREFACE + "\n" + "\n".join(rows) + "\n"


DOCS = {"docs/cli.md": cli_markdown, "docs/troubleshooting.md": troubleshooting_markdown}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for rel, make in DOCS.items():
        path, text = REPO / rel, make()
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(rel)
        else:
            path.write_text(text)
    if stale:
        print(f"stale: {', '.join(stale)}; run `python tools/docs_gen.py`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
