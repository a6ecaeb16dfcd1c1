"""The pure parts of ``cta-tui serve --ssh``: addresses, child environment, key files."""

from __future__ import annotations

import stat
from pathlib import Path

import asyncssh
import pytest

from cta_core.errors import CtaError
from cta_core.settings import Settings
from cta_tui.ssh.cli import parse_address
from cta_tui.ssh.keys import KeyRing, config_dir, fingerprint, load_or_create_host_key
from cta_tui.ssh.server import READ_ONLY_FLAG, SessionLimiter, dashboard_argv
from cta_tui.ssh.session import SessionInfo, child_environment, pack_winsize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:2222", ("127.0.0.1", 2222)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        ("[::1]:2200", ("::1", 2200)),
        ("example.org:22", ("example.org", 22)),
    ],
)
def test_parse_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["2222", ":2222", "host:", "host:port", "::1:22", "h:70000"])
def test_parse_address_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_address(text)


def test_child_environment_is_an_allowlist() -> None:
    settings = Settings.from_env({}, bootstrap_servers="broker:1", kafka_config={"linger.ms": "5"})
    env = child_environment(
        "xterm-kitty",
        client_env={"LC_ALL": "C.UTF-8", "COLORTERM": "truecolor", "LD_PRELOAD": "/evil.so", "PATH": "/x"},
        server_env={"PATH": "/usr/bin", "HOME": "/home/op", "SECRET": "s", "CTA_STACK_DIR": "/st"},
        settings=settings,
    )
    assert env["TERM"] == "xterm-kitty"
    assert env["LC_ALL"] == "C.UTF-8" and env["COLORTERM"] == "truecolor"
    assert env["PATH"] == "/usr/bin", "the client must not choose PATH"
    assert "LD_PRELOAD" not in env and "SECRET" not in env
    assert env["CTA_STACK_DIR"] == "/st"
    assert env["CTA_BOOTSTRAP_SERVERS"] == "broker:1"
    assert env["CTA_KAFKA_CONFIG"] == "linger.ms=5"
    # Round trip: the child's settings are the server's.
    child = Settings.from_env(env)
    assert child.bootstrap_servers == "broker:1" and child.kafka_config == {"linger.ms": "5"}


def test_winsize_never_zero() -> None:
    assert pack_winsize(0, 0) == pack_winsize(1, 1)
    assert pack_winsize(100, 30) != pack_winsize(30, 100)


def test_dashboard_is_read_only_unless_control() -> None:
    ro = dashboard_argv(SessionInfo("u", "SHA256:x", control=False, peer="p"))
    rw = dashboard_argv(SessionInfo("u", "SHA256:x", control=True, peer="p"))
    assert ro[1:3] == ["-m", "cta_tui"] and READ_ONLY_FLAG in ro
    assert READ_ONLY_FLAG not in rw


def test_session_limiter_refuses_beyond_max() -> None:
    limiter = SessionLimiter(2)
    a, b, c = object(), object(), object()
    assert limiter.acquire(a) is None  # type: ignore[arg-type]
    assert limiter.acquire(b) is None  # type: ignore[arg-type]
    refusal = limiter.acquire(c)  # type: ignore[arg-type]
    assert refusal is not None and "2 of 2" in refusal
    limiter.release(a)  # type: ignore[arg-type]
    assert limiter.acquire(c) is None  # type: ignore[arg-type]


def test_config_dir_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_dir() == tmp_path / "cta-live"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", "/h")
    assert config_dir() == Path("/h/.config/cta-live")


def test_host_key_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "ssh_host_ed25519_key"
    key, created = load_or_create_host_key(path)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created_again = load_or_create_host_key(path)
    assert not created_again
    assert fingerprint(again) == fingerprint(key)
    path.chmod(0o644)
    with pytest.raises(CtaError, match="chmod 600"):
        load_or_create_host_key(path)


def _pub(key: asyncssh.SSHKey) -> str:
    return key.export_public_key().decode().strip()


def test_keyring_marks_control_keys(tmp_path: Path) -> None:
    viewer, operator, listed, stranger = (asyncssh.generate_private_key("ssh-ed25519") for _ in range(4))
    authorized = tmp_path / "authorized_keys"
    authorized.write_text(
        f"# comment\n{_pub(viewer)} viewer\ncta-control {_pub(operator)} op\n"
        f'from="10.0.0.0/8" {_pub(stranger)} only-from-10\n'
    )
    control = tmp_path / "control_keys"
    control.write_text(_pub(listed) + "\n")
    ring = KeyRing(authorized, control)
    ring.check_files()
    v = ring.access(viewer, "127.0.0.1", "127.0.0.1")
    o = ring.access(operator, "127.0.0.1", "127.0.0.1")
    ctl = ring.access(listed, "127.0.0.1", "127.0.0.1")
    assert v is not None and not v.control and v.fingerprint == fingerprint(viewer)
    assert o is not None and o.control
    assert ctl is not None and ctl.control
    assert ring.access(stranger, "127.0.0.1", "127.0.0.1") is None
    assert ring.access(stranger, "10.1.2.3", "10.1.2.3") is not None


def test_keyring_without_keys_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CtaError, match="nobody could log in"):
        KeyRing(tmp_path / "missing").check_files()
    bad = tmp_path / "bad"
    bad.write_text("ssh-ed25519 not-base64!!\n")
    with pytest.raises(CtaError, match="authorized_keys file"):
        KeyRing(bad).check_files()
