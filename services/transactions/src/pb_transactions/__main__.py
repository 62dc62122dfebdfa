from pb_transactions.app import build_app
from pb_transactions.settings import Settings
from pbkit.serve import main

if __name__ == "__main__":
    main(service="transactions", package="pb_transactions", default_port=8002, settings_class=Settings, build_app=build_app)
