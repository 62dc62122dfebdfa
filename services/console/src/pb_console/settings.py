"""The console's PB_* settings: where the five services are, the session's lifetime, where the built app is."""

from pathlib import Path

from pydantic import Field

from pbkit.settings import ServiceSettings

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"


class Settings(ServiceSettings):
    service_name: str = "console"

    # The services behind the proxy /api/<service>/… (registry_url is the kit's).
    transactions_url: str = "http://127.0.0.1:8002"
    pledge_url: str = "http://127.0.0.1:8003"
    product_filing_url: str = "http://127.0.0.1:8004"
    metrics_url: str = "http://127.0.0.1:8005"
    market_url: str = "http://127.0.0.1:8006"
    proxy_timeout_s: float = Field(default=30.0, gt=0)

    # A session lasts as long as the token the registry signed for it, and at most this long.
    session_max_s: int = Field(default=8 * 3600, ge=60)
    # Secure cookies need HTTPS: on outside development (behind the office's TLS proxy).
    cookie_secure: bool | None = None
    # The built single-page app (npm run build in services/console/web).
    web_dist: Path = WEB_DIST

    @property
    def secure_cookies(self) -> bool:
        return self.env != "development" if self.cookie_secure is None else self.cookie_secure

    def service_urls(self) -> dict[str, str]:
        return {
            "registry": self.registry_url,
            "transactions": self.transactions_url,
            "pledge": self.pledge_url,
            "product-filing": self.product_filing_url,
            "metrics": self.metrics_url,
            "market": self.market_url,
        }
