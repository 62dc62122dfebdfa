from pbkit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "metrics"
    # A rebuild whose worker has not reported for this long is failed when the next one is requested.
    rebuild_stale_after_s: float = 120.0
    # How often the replica leading the rebuild job looks for rebuilds requested through another replica.
    rebuild_poll_s: float = 1.0
