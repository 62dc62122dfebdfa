from pbkit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "product_filing"
