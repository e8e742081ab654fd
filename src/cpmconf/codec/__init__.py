"""Codec layer: sans-IO parsing and building of the wire formats the suite handles.

SIP messages and their CPM-relevant header values, SIP stream framing, message/cpim bodies,
resource lists, SDP (sdp.py), MSRP with its framing and chunking (msrp.py), the one URI model
and its comparison policies (uri.py) and the harness's CPM constants (cpm.py). Nothing here
touches a socket; every parser raises
:class:`cpmconf.codec.errors.CodecError` on bad input and nothing else.
"""
