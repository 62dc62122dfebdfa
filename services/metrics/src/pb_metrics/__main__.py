from pb_metrics.app import build_app
from pb_metrics.settings import Settings
from pbkit.serve import main

if __name__ == "__main__":
    main(service="metrics", package="pb_metrics", default_port=8005, settings_class=Settings, build_app=build_app)
