"""cta_stack/jars.lock: its format, that it matches the pom, and direct downloads checked
against their hashes (served by a real local HTTP server laid out as a Maven repository)."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from cta_stack.errors import StackError
from cta_stack.jar_lock import JarLock, LockedJar, download_set, format_lock, parse_lock, read_lock
from cta_stack.jars import Jars, fetch_all, needs_maven, pom_versions


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_lock_round_trips_and_rejects_a_bad_line() -> None:
    lock = JarLock(
        {"kafka.version": "4.3.1", "debezium.version": "3.6.1.Final"},
        (LockedJar("kafka", "org/x/a/1/a-1.jar", "0" * 64),),
    )
    assert parse_lock(format_lock(lock)) == lock
    with pytest.raises(ValueError, match="line 1"):
        parse_lock("kafka\torg/x/a/1/a-1.jar\tshort\n")


def test_the_committed_lock_is_for_the_pom_and_lists_both_sets() -> None:
    """Fails when the pom's versions move without `make lock`."""
    lock = read_lock()
    assert lock is not None
    assert lock.covers("kafka", pom_versions()) and lock.covers("debezium", pom_versions())
    names = {j.file_name for j in lock.of("kafka")}
    assert f"kafka-clients-{pom_versions()['kafka.version']}.jar" in names
    assert not needs_maven(Jars.in_cache(Path("/nonexistent")).missing(), lock)


def test_a_lock_for_other_versions_covers_nothing() -> None:
    lock = JarLock(
        {"kafka.version": "0.1", "debezium.version": "0.1"}, (LockedJar("kafka", "a.jar", "0" * 64),)
    )
    assert not lock.covers("kafka", pom_versions())
    assert needs_maven(Jars.in_cache(Path("/nonexistent")).missing(), lock)


@pytest.fixture
def repository(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "repo"
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()


def _publish(root: Path, path: str, data: bytes) -> LockedJar:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_bytes(data)
    return LockedJar("kafka", path, _sha(data))


def test_download_set_fetches_every_jar_checked(repository: tuple[str, Path], tmp_path: Path) -> None:
    url, root = repository
    jars = [_publish(root, f"org/x/a{i}/1/a{i}-1.jar", bytes([i]) * 1000) for i in range(12)]
    lines: list[str] = []
    download_set(jars, tmp_path / "out", on_line=lines.append, env={"CTA_MAVEN_URL": url})
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(j.file_name for j in jars)
    assert len(lines) == 12 and all(line.startswith("Downloaded from") for line in lines)


def test_a_jar_that_does_not_match_its_hash_is_refused_and_not_kept(
    repository: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = repository
    good = _publish(root, "org/x/a/1/a-1.jar", b"original")
    (root / good.path).write_bytes(b"altered")
    with pytest.raises(StackError, match="SHA-256"):
        download_set([good], tmp_path / "out", env={"CTA_MAVEN_URL": url})
    assert list((tmp_path / "out").iterdir()) == []


def test_a_missing_jar_names_its_url(repository: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = repository
    with pytest.raises(StackError, match=r"could not download http://127\.0\.0\.1:\d+/org/x/gone-1\.jar"):
        download_set(
            [LockedJar("kafka", "org/x/gone-1.jar", "0" * 64)], tmp_path / "out", env={"CTA_MAVEN_URL": url}
        )


def test_fetch_all_reports_a_set_it_cannot_download(
    repository: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real lock against an empty repository: an error per set, no marker written."""
    url, _ = repository
    monkeypatch.setenv("CTA_MAVEN_URL", url)
    jars = Jars.in_cache(tmp_path / "cache")
    errors = fetch_all(jars.missing())
    assert len(errors) == 2 and jars.missing() == [jars.kafka, jars.debezium]
