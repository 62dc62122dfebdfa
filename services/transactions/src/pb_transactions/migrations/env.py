from pbkit.migrations import run_env
from pb_transactions.models import Base

run_env(Base.metadata)
