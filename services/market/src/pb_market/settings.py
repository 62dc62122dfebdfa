from pbkit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "market"
    # Where the market creates the deals of accepted open licences (the transactions service's public API).
    transactions_url: str = "http://127.0.0.1:8002"
    # How often the leader-elected job closes the demands past their expiry date (seconds).
    demand_expiry_interval_s: float = 60.0
    # How often the leader-elected matching job ranks the demands marked due (seconds).
    matching_interval_s: float = 2.0
