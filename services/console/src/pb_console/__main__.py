from pb_console.app import build_app
from pb_console.settings import Settings
from pbkit.serve import main

if __name__ == "__main__":
    main(service="console", package="pb_console", default_port=8000, settings_class=Settings, build_app=build_app)
