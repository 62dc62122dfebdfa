pytest_plugins = ["pbkit.testing"]
