"""The registry's PB_* settings: the kit's, plus the bootstrap admin client and the token lifetime."""

from pydantic import Field, model_validator

from pbkit.settings import ServiceSettings, refuse_weak_secret


class Settings(ServiceSettings):
    service_name: str = "registry"

    # The first admin client (CONTRACT.md §3), created or updated at every start.
    bootstrap_admin_id: str | None = Field(default=None, min_length=1, max_length=128)
    bootstrap_admin_secret: str | None = None

    # The first staff admin (the console's sign-in), created at a start when no user has that username.
    bootstrap_staff_username: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")
    bootstrap_staff_password: str | None = Field(default=None, min_length=12, max_length=256)

    # The registry owns the clients: it refuses revoked tokens from its own database, not from the feed.
    revocation_topic: str = ""

    # Lifetime of the access tokens this registry signs.
    token_ttl_s: int = Field(default=3600, ge=60, le=86400)

    # Staff sign-in: this many consecutive failures lock the account for sign_in_lock_s (an admin can unlock
    # it); a source address with sign_in_address_limit failures within sign_in_address_window_s, for any
    # usernames, is refused (429) until the oldest of them leaves the window.
    sign_in_max_failures: int = Field(default=5, ge=1, le=100)
    sign_in_lock_s: int = Field(default=900, ge=1, le=86400)
    sign_in_address_limit: int = Field(default=20, ge=1, le=10000)
    sign_in_address_window_s: int = Field(default=900, ge=1, le=86400)

    @model_validator(mode="after")
    def _bootstrap_admin(self) -> "Settings":
        # Outside development: short, low-entropy and placeholder secrets stop the start (pbkit.settings).
        refuse_weak_secret(self, "PB_BOOTSTRAP_ADMIN_SECRET", self.bootstrap_admin_secret)
        if self.env == "production" and not self.bootstrap_admin_id:
            raise ValueError("PB_BOOTSTRAP_ADMIN_ID must be set in production")
        if bool(self.bootstrap_admin_id) != bool(self.bootstrap_admin_secret):
            raise ValueError("PB_BOOTSTRAP_ADMIN_ID and PB_BOOTSTRAP_ADMIN_SECRET are set together or not at all")
        if self.bootstrap_staff_password:  # optional even in production: admins may be created otherwise
            refuse_weak_secret(self, "PB_BOOTSTRAP_STAFF_PASSWORD", self.bootstrap_staff_password)
        if bool(self.bootstrap_staff_username) != bool(self.bootstrap_staff_password):
            raise ValueError("PB_BOOTSTRAP_STAFF_USERNAME and PB_BOOTSTRAP_STAFF_PASSWORD are set together or not at all")
        return self
