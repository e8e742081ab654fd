"""Codec layer: sans-IO parsing and building of the wire formats the suite handles.

SIP messages and their CPM-relevant header values, SIP stream framing, message/cpim bodies
and resource lists. Nothing here touches a socket; every parser raises
:class:`cpmconf.codec.errors.CodecError` on bad input and nothing else.
"""
