"""refsut: the reference system under test shipped with cpmconf.

A CPM Participating Function and CPM Client built only on cpmconf's codec and transport
layers; it never imports the harness's capture, roles, verdict, plugin or report code, nor
pytest, so it behaves like any other vendor's implementation on the wire. It reads with the
codec's parsers but writes every byte it sends itself (:mod:`refsut.wire`), so a misreading
in a codec builder cannot hide on both sides.
"""
