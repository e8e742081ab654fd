"""Loads the cpmconf pytest plugin and the fixture modules; nothing else lives here."""

pytest_plugins = [
    "cpmconf.plugin.pytest_plugin",
    "fixtures.session",
    "fixtures.per_test",
]
