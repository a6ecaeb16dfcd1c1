"""Host key and client keys of ``cta-tui serve --ssh``.

- The host key is an Ed25519 key generated on first start and kept, mode 0600, in
  the configuration directory (``$XDG_CONFIG_HOME/cta-live``, else
  ``~/.config/cta-live``); its fingerprint is logged at every start so operators
  can check it against what their ``ssh`` client shows.
- Clients log in with a public key listed in an authorized_keys file (OpenSSH
  format, parsed by asyncssh, so ``from="..."`` patterns are honoured).
- A key may control the simulator (pause, resume, speed) when it is listed in the
  ``--control-keys`` file, or when its authorized_keys line carries the
  ``cta-control`` option::

      cta-control ssh-ed25519 AAAAC3Nz... operator@example

  OpenSSH's sshd skips lines with options it does not know, so if the same file
  also serves sshd, list control keys in a separate ``--control-keys`` file.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import asyncssh
from platformdirs import user_config_path

from cta_core.errors import CtaError

log = logging.getLogger(__name__)

#: The authorized_keys option that marks a key as allowed to control the simulator.
CONTROL_OPTION = "cta-control"
HOST_KEY_NAME = "ssh_host_ed25519_key"


def config_dir() -> Path:
    """The user's configuration directory's ``cta-live`` (platformdirs: ``$XDG_CONFIG_HOME``,
    else ``~/.config`` on Linux)."""
    return user_config_path("cta-live", appauthor=False)


def default_host_key_path() -> Path:
    return config_dir() / HOST_KEY_NAME


def fingerprint(key: asyncssh.SSHKey) -> str:
    """The SHA256 fingerprint, as OpenSSH prints it."""
    return key.get_fingerprint("sha256")


def load_or_create_host_key(path: Path) -> tuple[asyncssh.SSHKey, bool]:
    """Load the host key, generating it (mode 0600) when missing.

    Returns the key and whether it was created now. A key file readable by
    others is refused, as OpenSSH does, because anyone who reads it can
    impersonate this server.
    """
    path = path.expanduser()
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise CtaError(f"host key {path} is readable by others (mode {mode:o}); run `chmod 600 {path}`")
        try:
            return asyncssh.read_private_key(path), False
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise CtaError(f"cannot read the host key {path}: {exc}") from None
    key = asyncssh.generate_private_key("ssh-ed25519", comment="cta-live host key")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Create with 0600 from the start: no window in which the key is world-readable.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.export_private_key())
    pub = path.with_name(path.name + ".pub")
    pub.write_bytes(key.export_public_key())
    return key, True


@dataclass(frozen=True)
class Access:
    """What a logged-in key may do."""

    fingerprint: str
    control: bool


def _read_keys(path: Path, what: str) -> asyncssh.SSHAuthorizedKeys | None:
    try:
        text = path.expanduser().read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CtaError(f"cannot read the {what} file {path}: {exc.strerror}") from None
    if not text.strip():
        return None
    try:
        return asyncssh.import_authorized_keys(text)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise CtaError(f"{what} file {path}: {exc}") from None


@dataclass(frozen=True)
class KeyRing:
    """The keys allowed to log in, read from the authorized_keys and control files.

    Read again for every connection (cheap), so adding or removing a key takes
    effect without restarting the server.
    """

    authorized_keys: Path
    control_keys: Path | None = None

    def check_files(self) -> None:
        """Raise CtaError when no key at all could log in (for a clear error at start)."""
        loaded = [_read_keys(self.authorized_keys, "authorized_keys")]
        if self.control_keys is not None:
            if not self.control_keys.expanduser().exists():
                raise CtaError(f"control keys file {self.control_keys} does not exist")
            loaded.append(_read_keys(self.control_keys, "control keys"))
        if not any(loaded):
            raise CtaError(
                f"no public keys in {self.authorized_keys}"
                + (f" or {self.control_keys}" if self.control_keys else "")
                + ": nobody could log in (see --authorized-keys)"
            )

    def access(self, key: asyncssh.SSHKey, client_host: str, client_addr: str) -> Access | None:
        """The access of ``key`` from that client, or None when it may not log in."""
        # Entries match public keys only; normalise (a private key also works here).
        key = asyncssh.import_public_key(key.export_public_key())
        fp = fingerprint(key)
        control = None
        if self.control_keys is not None:
            control = _read_keys(self.control_keys, "control keys")
        if control is not None and control.validate(key, client_host, client_addr) is not None:
            return Access(fp, control=True)
        authorized = _read_keys(self.authorized_keys, "authorized_keys")
        if authorized is None:
            return None
        options = authorized.validate(key, client_host, client_addr)
        if options is None:
            return None
        return Access(fp, control=bool(options.get(CONTROL_OPTION)))
