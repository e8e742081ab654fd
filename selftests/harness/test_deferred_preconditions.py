"""What the PF deferred-message cases need from the PF before they index anything it sent
(cpmconf.procedures.pf_deferred): a refused deferral is `SetupRefused` with its status, missing
Message-URI-IDs an inconclusive verdict with the reason, never an IndexError later."""

from __future__ import annotations

import pytest

from cpmconf.procedures.pf_deferred import Deferral, require_deferred, require_ids
from cpmconf.procedures.results import Ids
from cpmconf.roles.errors import SetupRefused
from cpmconf.verdict import Cause, Inconclusive

NOTE = Ids("d-1@127.0.0.1", (1, "MESSAGE"), "z9hG4bK1")  # a notification came


def test_a_refused_deferral_is_setup_refused_with_its_status():
    refused = Deferral(None, 405, "Method Not Allowed", None, b"")
    with pytest.raises(SetupRefused) as info:
        require_deferred([Deferral(None, 202, "Accepted", NOTE, b""), refused])
    assert str(info.value) == (
        "the SUT answered 405 Method Not Allowed to the originator's MESSAGE, "
        "so nothing was deferred"
    )
    with pytest.raises(SetupRefused):
        require_ids([refused], [], 1)


def test_a_notification_without_ids_is_inconclusive_not_an_index_error():
    with pytest.raises(Inconclusive) as info:
        require_ids([Deferral(None, 202, "Accepted", NOTE, b"")], [], 1)
    assert info.value.reason == "the PF's notification listed no Message-URI-ID"
    assert info.value.cause == Cause.PRECONDITION


def test_no_notification_and_too_few_ids_say_so():
    accepted = Deferral(None, 202, "Accepted", None, b"")
    with pytest.raises(Inconclusive) as info:
        require_ids([accepted], [], 1)
    assert "sent no notification" in info.value.reason
    noted = Deferral(None, 202, "Accepted", NOTE, b"")
    with pytest.raises(Inconclusive) as info:
        require_ids([noted, noted], ["id-1"], 2)
    assert "listed 1 Message-URI-ID(s) for 2 deferred message(s)" in info.value.reason
    require_ids([noted, noted], ["id-1", "id-2"], 2)  # enough: no exception
