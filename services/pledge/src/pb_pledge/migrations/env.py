from pbkit.migrations import run_env
from pb_pledge.models import Base

run_env(Base.metadata)
