from pbkit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "metrics"
    # A rebuild whose worker has not reported for this long is failed when the next one is requested.
    rebuild_stale_after_s: float = 120.0
