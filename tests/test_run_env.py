"""The environment `deploy/run.sh` gives the services (its `--print-env` dry run, which starts nothing):
the README's development admin pair only for `make run` in development mode; `make run-kafka` (production
mode on one machine) gets a random strong secret kept under var/ across restarts."""

from __future__ import annotations

import os
import stat
import subprocess

from pbkit.settings import weak_secret_reason
from pbkit.testing import REPO_ROOT

DEV_SECRET = "dev-admin-secret-do-not-use-in-production"


def run_env(mode: str, var_dir, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PB_")} | {"PB_VAR_DIR": str(var_dir)} | extra
    done = subprocess.run([str(REPO_ROOT / "deploy" / "run.sh"), "--print-env", mode], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if line.startswith("PB_"))


def test_make_run_in_development_gets_the_development_pair(tmp_path):
    env = run_env("local", tmp_path)
    assert env["PB_ENV"] == "development" and env["PB_BUS"] == "local"
    assert (env["PB_BOOTSTRAP_ADMIN_ID"], env["PB_BOOTSTRAP_ADMIN_SECRET"]) == ("dev-admin", DEV_SECRET)


def test_make_run_kafka_gets_a_generated_strong_secret_kept_across_restarts(tmp_path):
    env = run_env("kafka", tmp_path)
    assert env["PB_ENV"] == "production" and env["PB_BUS"] == "kafka"
    secret = env["PB_BOOTSTRAP_ADMIN_SECRET"]
    assert secret != DEV_SECRET and env["PB_BOOTSTRAP_ADMIN_ID"] != "dev-admin"
    assert weak_secret_reason(secret) is None
    kept = tmp_path / "bootstrap-admin.secret"
    assert kept.read_text().strip() == secret
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert run_env("kafka", tmp_path)["PB_BOOTSTRAP_ADMIN_SECRET"] == secret  # a restart keeps it
    assert run_env("kafka", tmp_path / "other")["PB_BOOTSTRAP_ADMIN_SECRET"] != secret  # another install has its own


def test_no_mode_but_development_gets_the_development_pair(tmp_path):
    for mode, pb_env in [("local", "test"), ("local", "production"), ("kafka", "development"), ("kafka", "test")]:
        env = run_env(mode, tmp_path / f"{mode}-{pb_env}", PB_ENV=pb_env)
        assert env["PB_ENV"] == pb_env
        if pb_env == "development":
            assert env["PB_BOOTSTRAP_ADMIN_SECRET"] == DEV_SECRET
        else:
            assert env["PB_BOOTSTRAP_ADMIN_SECRET"] != DEV_SECRET, (mode, pb_env)
            assert weak_secret_reason(env["PB_BOOTSTRAP_ADMIN_SECRET"]) is None


def test_a_pair_that_is_set_is_passed_through_unchanged(tmp_path):
    env = run_env("kafka", tmp_path, PB_BOOTSTRAP_ADMIN_ID="ops", PB_BOOTSTRAP_ADMIN_SECRET="from-the-vault-7Qw2xZ")
    assert (env["PB_BOOTSTRAP_ADMIN_ID"], env["PB_BOOTSTRAP_ADMIN_SECRET"]) == ("ops", "from-the-vault-7Qw2xZ")
    assert not (tmp_path / "bootstrap-admin.secret").exists()
