from pbkit.migrations import run_env
from pb_metrics.models import Base

run_env(Base.metadata)
