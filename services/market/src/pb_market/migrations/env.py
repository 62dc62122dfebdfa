from pb_market.models import Base
from pbkit.migrations import run_env

run_env(Base.metadata)
