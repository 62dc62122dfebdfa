from pb_registry.app import build_app
from pb_registry.settings import Settings
from pbkit.serve import main

if __name__ == "__main__":
    main(service="registry", package="pb_registry", default_port=8001, settings_class=Settings, build_app=build_app)
