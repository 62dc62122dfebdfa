"""The bootstrap admin secret at settings load (CONTRACT §3): outside development a weak one stops the
registry before it starts, with an error naming PB_BOOTSTRAP_ADMIN_SECRET and why; development still
takes the README's development pair."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from pb_registry.settings import Settings
from pbkit.testing import REPO_ROOT, free_port

DEV_SECRET = "dev-admin-secret-do-not-use-in-production"
WEAK = [DEV_SECRET, "changeme", "password", "secret", "admin", "changeme-changeme", "passwordpassword",
        "Kq7#vX2!pL9", "abababababcdcdcdcdcd", "k9Xq2mWv7L-k9Xq2mWv7L", "Admin-Secret-2024-changeme"]
STRONG = "q8V-3nZr_Lw5Tx0bYk2Hs7Pc"


def load(env: str, tmp_path, secret: str | None) -> Settings:
    backend = {"bus": "kafka"} if env == "production" else {"bus": "local"}
    return Settings(env=env, database_url=f"sqlite:///{tmp_path}/r.sqlite3", var_dir=tmp_path, **backend,
                    bootstrap_admin_id="root", bootstrap_admin_secret=secret)


@pytest.mark.parametrize("env", ["test", "production"])
@pytest.mark.parametrize("secret", WEAK)
def test_a_weak_bootstrap_secret_is_refused_at_settings_load(env, secret, tmp_path):
    with pytest.raises(ValidationError) as refused:
        load(env, tmp_path, secret)
    message = str(refused.value)
    assert f"PB_BOOTSTRAP_ADMIN_SECRET is refused under PB_ENV={env}" in message
    assert repr(secret) not in message  # neither the error nor the input it was given shows the secret


@pytest.mark.parametrize("env", ["test", "production"])
def test_a_strong_bootstrap_secret_is_accepted(env, tmp_path):
    assert load(env, tmp_path, STRONG).bootstrap_admin_secret == STRONG


def test_development_still_accepts_the_development_pair(tmp_path):
    settings = Settings(env="development", database_url=f"sqlite:///{tmp_path}/r.sqlite3", var_dir=tmp_path,
                        bootstrap_admin_id="dev-admin", bootstrap_admin_secret=DEV_SECRET)
    assert (settings.bootstrap_admin_id, settings.bootstrap_admin_secret) == ("dev-admin", DEV_SECRET)


def test_the_registry_process_does_not_start_with_a_weak_secret_and_says_why(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PB_")} | {
        "PB_ENV": "test", "PB_BUS": "local", "PB_VAR_DIR": str(tmp_path),
        "PB_DATABASE_URL": f"sqlite:///{tmp_path}/registry.sqlite3",
        "PB_BOOTSTRAP_ADMIN_ID": "root", "PB_BOOTSTRAP_ADMIN_SECRET": "changeme-changeme",
    }
    process = subprocess.Popen([sys.executable, "-m", "pb_registry", "--port", str(free_port())], cwd=REPO_ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the registry started with PB_BOOTSTRAP_ADMIN_SECRET=changeme-changeme under PB_ENV=test")
    text = output.decode(errors="replace")
    assert process.returncode != 0
    assert "PB_BOOTSTRAP_ADMIN_SECRET is refused under PB_ENV=test: it is a well-known placeholder" in text
    assert "changeme-changeme" not in text
    assert not (tmp_path / "registry.sqlite3").exists()  # refused before it migrated anything
