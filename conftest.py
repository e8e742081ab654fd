"""Loads the cpmconf pytest plugin, the report writer and the fixture modules; nothing else
lives here."""

pytest_plugins = [
    "cpmconf.plugin.pytest_plugin",
    "cpmconf.report.pytest_reports",
    "fixtures.session",
    "fixtures.per_test",
]
