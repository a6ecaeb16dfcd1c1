"""Where the stack keeps its state, logs and data, and where the jar cache lives.

Everything of one stack lives under one directory (default ``.cta-stack`` in
the working directory, moved by ``CTA_STACK_DIR``). The jar cache lives outside
it, in the user's cache directory, so a fresh clone reuses downloaded jars.
Nothing here touches the file system until :meth:`StackLayout.create` is called.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: the directory name under the user's cache, state and config directories
APP_NAME = "cta-live"


@dataclass(frozen=True)
class StackLayout:
    root: Path

    @classmethod
    def at(cls, root: Path | str) -> StackLayout:
        return cls(Path(root).expanduser().absolute())

    @property
    def run_dir(self) -> Path:
        """Pid files."""
        return self.root / "run"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def config_dir(self) -> Path:
        """Generated configuration files (rewritten on every start)."""
        return self.root / "config"

    @property
    def data_root(self) -> Path:
        return self.root / "data"

    def data_dir(self, service: str) -> Path:
        return self.data_root / service

    def pidfile(self, service: str) -> Path:
        return self.run_dir / f"{service}.json"

    def log_file(self, service: str) -> Path:
        return self.logs_dir / f"{service}.log"

    def out_file(self, service: str) -> Path:
        """A JVM's own standard output and error (its log4j2 log is :meth:`log_file`)."""
        return self.logs_dir / f"{service}.out"

    def create(self) -> None:
        for d in (self.run_dir, self.logs_dir, self.config_dir, self.data_root):
            d.mkdir(parents=True, exist_ok=True)


def jar_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``CTA_JAR_CACHE``, else the user's cache directory's ``cta-live/jars``
    (platformdirs: ``$XDG_CACHE_HOME``, else ``~/.cache`` on Linux)."""
    env = os.environ if env is None else env
    if env.get("CTA_JAR_CACHE"):
        return Path(env["CTA_JAR_CACHE"]).expanduser()
    try:
        from platformdirs import user_cache_path
    except ImportError:  # `make install`'s first step runs before the venv exists
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / APP_NAME / "jars"
    return user_cache_path(APP_NAME, appauthor=False) / "jars"
