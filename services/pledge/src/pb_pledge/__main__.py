from pb_pledge.app import build_app
from pb_pledge.settings import Settings
from pbkit.serve import main

if __name__ == "__main__":
    main(service="pledge", package="pb_pledge", default_port=8003, settings_class=Settings, build_app=build_app)
