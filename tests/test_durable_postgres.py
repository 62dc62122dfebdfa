"""`make run-kafka`'s PostgreSQL (deploy/postgres.sh, profile durable): fsync, synchronous_commit and full_page_writes
on, scram-sha-256 password authentication with a generated password kept under the run's infra directory, and
max_connections sized for 2 replicas of every service. The test instance (profile test) keeps trust and the fast
settings. One server, started in a directory of this test's own, switched between the two profiles."""

from __future__ import annotations

import glob
import os
import stat
import subprocess

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from pbkit.testing import REPO_ROOT, require

pytestmark = pytest.mark.integration

SCRIPT = str(REPO_ROOT / "deploy" / "postgres.sh")


def postgres_sh(infra_dir, command: str, profile: str) -> None:
    env = {**os.environ, "PB_INFRA_DIR": str(infra_dir), "PB_PG_PROFILE": profile}
    done = subprocess.run([SCRIPT, command], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def env_url(infra_dir) -> str:
    return (infra_dir / "postgres.env").read_text().strip().removeprefix("PB_TEST_POSTGRES_URL=")


def settings(url: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: conn.execute(text(f"SHOW {name}")).scalar_one()
                    for name in ("fsync", "synchronous_commit", "full_page_writes", "max_connections")}
    finally:
        engine.dispose()


def refused(url: str) -> str | None:
    """The server's refusal of `url`, or None when it let the connection in."""
    engine = create_engine(url)
    try:
        with engine.connect():
            return None
    except OperationalError as exc:
        return str(exc.orig)
    finally:
        engine.dispose()


def test_make_run_kafkas_postgres_is_durable_and_asks_for_a_password_the_test_instance_is_not(tmp_path):
    require(bool(glob.glob("/usr/lib/postgresql/*/bin/postgres")), "PostgreSQL's server is not installed")
    infra = tmp_path / "infra"
    try:
        postgres_sh(infra, "start", "durable")
        url = env_url(infra)
        password_file = infra / "postgres.password"
        password = password_file.read_text().strip()
        assert len(password) >= 32 and password.isalnum()
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        assert stat.S_IMODE((infra / "postgres.env").stat().st_mode) == 0o600
        assert f"postgres:{password}@" in url
        assert settings(url) == {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on",
                                 "max_connections": "300"}
        no_password = url.replace(f":{password}@", "@")
        assert "password" in (refused(no_password) or "let in without a password")
        assert "password authentication failed" in (refused(url.replace(password, "x" + password[1:])) or "let in")

        postgres_sh(infra, "stop", "durable")
        postgres_sh(infra, "start", "durable")
        assert env_url(infra) == url  # a restart keeps the password (and the port)

        postgres_sh(infra, "stop", "durable")
        postgres_sh(infra, "start", "test")
        trusted = env_url(infra)
        assert "@" in trusted and ":" not in trusted.split("//", 1)[1].split("@", 1)[0]  # no password in the URL
        assert settings(trusted) == {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                                     "max_connections": "300"}
    finally:
        postgres_sh(infra, "stop", "test")
