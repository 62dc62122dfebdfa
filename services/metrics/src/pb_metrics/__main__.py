from pbkit.serve import main
from pb_metrics.app import build_app
from pb_metrics.settings import Settings

if __name__ == "__main__":
    main(service="metrics", package="pb_metrics", default_port=8005, settings_class=Settings, build_app=build_app)
