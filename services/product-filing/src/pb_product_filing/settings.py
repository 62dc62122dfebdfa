from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from pbkit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "product_filing"
    # The programme's calendar: an approval dated "today" means today in Guizhou, not in UTC.
    business_timezone: str = "Asia/Shanghai"

    @field_validator("business_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value
