from pb_registry.models import Base
from pbkit.migrations import run_env

run_env(Base.metadata)
