from pbkit.migrations import run_env
from pb_product_filing.models import Base

run_env(Base.metadata)
