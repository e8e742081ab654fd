"""cpmconf: a conformance test suite for OMA CPM standalone messaging.

The package is layered; each layer imports only the ones listed before it:
catalogue, codec, transport, capture, roles, verdict, plugin, report, cli.
"""

__version__ = "0.1.0"
