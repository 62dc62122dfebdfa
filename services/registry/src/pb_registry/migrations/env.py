from pbkit.migrations import run_env
from pb_registry.models import Base

run_env(Base.metadata)
