from pb_product_filing.app import build_app
from pb_product_filing.settings import Settings
from pbkit.serve import main

if __name__ == "__main__":
    main(service="product_filing", package="pb_product_filing", default_port=8004, settings_class=Settings, build_app=build_app)
