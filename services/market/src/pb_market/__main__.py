from pb_market.app import build_app
from pb_market.settings import Settings
from pbkit.serve import main

if __name__ == "__main__":
    main(service="market", package="pb_market", default_port=8006, settings_class=Settings, build_app=build_app)
