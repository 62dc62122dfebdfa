"""The kit's rule for secrets outside development (`pbkit.settings.refuse_weak_secret`): each kind of weak
secret is refused under PB_ENV=test and PB_ENV=production with a message naming the variable and why;
development accepts anything; random secrets pass."""

from __future__ import annotations

import base64
import os
import secrets

import pytest

from pbkit.settings import DEVELOPMENT_ADMIN_SECRET, ServiceSettings, refuse_weak_secret, weak_secret_reason

NAME = "PB_BOOTSTRAP_ADMIN_SECRET"

# Each kind of weak secret, with the words its refusal must give.
WEAK = {
    "the development secret of the README": (DEVELOPMENT_ADMIN_SECRET, "development secret"),
    "changeme": ("changeme", "placeholder"),
    "password": ("password", "placeholder"),
    "secret": ("secret", "placeholder"),
    "admin": ("admin", "placeholder"),
    "a placeholder in capitals": ("CHANGE-ME", "placeholder"),
    "changeme-changeme": ("changeme-changeme", "placeholder"),
    "passwordpassword": ("passwordpassword", "placeholder"),
    "short": ("Kq7#vX2!pL9", "fewer than 16"),
    "few distinct characters": ("abababababcdcdcdcdcd", "distinct characters"),
    "one character": ("x" * 24, "distinct characters"),
    "a repetition": ("k9Xq2mWv7L-k9Xq2mWv7L", "repeated"),
    "placeholder words and digits": ("Admin-Secret-2024-changeme", "predictable"),
    "a run of letters": ("abcdefghijklmnopqrst", "predictable"),
    "digits only": ("0123456789012345", "predictable"),
}


def settings(env: str) -> ServiceSettings:
    return ServiceSettings(env=env, database_url="sqlite://", bus="kafka" if env == "production" else "local")


@pytest.mark.parametrize("env", ["test", "production"])
@pytest.mark.parametrize("kind", list(WEAK))
def test_every_mode_but_development_refuses_a_weak_secret_naming_the_variable_and_why(env, kind):
    secret, why = WEAK[kind]
    with pytest.raises(ValueError) as refused:
        refuse_weak_secret(settings(env), NAME, secret)
    message = str(refused.value)
    assert message.startswith(f"{NAME} is refused under PB_ENV={env}: ")
    assert why in message
    assert repr(secret) not in message and f"={secret}" not in message  # the error never repeats the secret


@pytest.mark.parametrize("kind", list(WEAK))
def test_development_accepts_any_secret_the_development_pair_included(kind):
    refuse_weak_secret(settings("development"), NAME, WEAK[kind][0])


def test_production_needs_the_secret_and_test_mode_may_leave_it_out():
    with pytest.raises(ValueError, match=f"{NAME} must be set in production"):
        refuse_weak_secret(settings("production"), NAME, None)
    refuse_weak_secret(settings("test"), NAME, None)


@pytest.mark.parametrize("env", ["test", "production"])
def test_random_and_long_chosen_secrets_are_accepted(env):
    strong = [
        secrets.token_urlsafe(32),
        base64.b64encode(os.urandom(32)).decode(),  # what `openssl rand -base64 32` prints
        secrets.token_hex(16),
        "correct-horse-battery-staple-41",
        "root-admin-secret-for-tests",
    ]
    for secret in strong:
        assert weak_secret_reason(secret) is None, secret
        refuse_weak_secret(settings(env), NAME, secret)


def test_a_thousand_random_secrets_pass_the_rule():
    assert [s for s in (secrets.token_urlsafe(24) for _ in range(1000)) if weak_secret_reason(s)] == []
