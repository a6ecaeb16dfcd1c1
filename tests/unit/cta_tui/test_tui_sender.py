"""Who a dashboard's control commands come from (``sender``, docs/control-protocol.md)."""

from __future__ import annotations

import os

from cta_core.records.control import MAX_SENDER, make_command
from cta_tui.control import SENDER_ENV, default_sender
from cta_tui.ssh.session import SessionInfo


def test_a_local_dashboard_names_its_user_host_and_process() -> None:
    sender = default_sender({"USER": "ada"})
    assert sender.startswith("cta-tui ada@") and sender.endswith(f"pid {os.getpid()}")


def test_an_ssh_session_names_its_user_peer_and_key() -> None:
    info = SessionInfo(username="ada", fingerprint="SHA256:abc", control=True, peer="10.0.0.7")
    assert info.sender == "ssh ada@10.0.0.7 key SHA256:abc"
    assert default_sender({SENDER_ENV: info.sender, "USER": "root"}) == info.sender


def test_commands_carry_the_sender_cut_to_what_the_simulator_accepts() -> None:
    assert make_command("pause", sender="x" * 500)["sender"] == "x" * MAX_SENDER
    assert "sender" not in make_command("pause")
