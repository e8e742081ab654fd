"""Robustness group, SIP and CPIM (RB-sip-*, RB-cpim-*): input a SUT cannot accept.

Our own set of stimuli, modelled on the categories of RFC 4475. Each case checks that the
SUT answers an OPTIONS probe (else it is inconclusive), sends one broken request to the SUT's
SIP role (the PF when the profile has one, else the client), then an OPTIONS probe through
the core. The SUT passes when nothing accepted the broken request with a
2xx (an error status or silence is fine) and the probe got a final response in the guard time.
Framing faults go over TCP on a connection of their own, so they cannot swallow the probe.

Selected with `cpmconf run -m robustness` (or `--clause RB-`); part of the default run.
"""

from __future__ import annotations

import pytest

from cpmconf.codec.cpm import ICSI_MSG
from cpmconf.codec.headers import encode_icsi
from cpmconf.procedures.robustness import cpim_body, render_raw, target
from testcases.judging import Run

pytestmark = pytest.mark.robustness

KIB = 1024


def message(scene, what: str, body: bytes | None = None, **context):
    """A raw MESSAGE to a user the target serves; context overrides any template value."""
    _, user, _ = target(scene)
    originator = scene.role("originator")
    if body is None:
        body = cpim_body(scene, originator, user)
    context.setdefault("request_uri", user)
    context.setdefault("from_", f"<{originator}>")
    context.setdefault("to", f"<{user}>")
    context.setdefault("extra", [])
    context.setdefault("content_type", "message/cpim")
    return render_raw(scene, "robustness/message.sip.j2", what, body, **context)


async def run_one(
    scene,
    expect,
    clause: str,
    stim,
    transport: str | None = None,
    may_accept: bool = False,
    answer_first: bool = False,
    refusal: str | None = None,
) -> None:
    to, _, default = target(scene)
    run = Run(scene, expect, clause, may_accept, refusal)
    await run.check_alive(to)
    await run.send(stim, to, transport or default)
    if answer_first:
        await run.answer_first()
    await run.judge(to)


CONTENT_LENGTHS = {
    "too-large": lambda n: str(n + 40),
    "too-small": lambda n: str(n - 6),
    "negative": lambda n: "-5",
    "not-a-number": lambda n: "12abc",
}


# RFC 3261 18.3 has a too-small Content-Length end the request early (UDP: the surplus is
# discarded; TCP: it starts the next message), so any answer conforms there, and no rule
# obliges refusing a negative or non-numeric one: these judge survival alone
# (RB-sip-content-length). Only a UDP request longer than its datagram SHOULD get a 400
# (RB-sip-content-length-udp-excess, below).
@pytest.mark.clause("RB-sip-content-length", "RB-sip-content-length-udp-excess")
@pytest.mark.parametrize(
    "variant,transport",
    [
        pytest.param(v, t, id=f"{v}-{t}", marks=[pytest.mark.tls] if t == "tls" else [])
        for v in sorted(CONTENT_LENGTHS)
        for t in ("udp", "tcp", "tls")
    ],
)
async def test_bad_content_length(scene, expect, variant, transport):
    _, user, _ = target(scene)
    body = cpim_body(scene, scene.role("originator"), user)
    stim = message(
        scene,
        f"a MESSAGE over {transport} with a {variant} Content-Length",
        body,
        content_length=CONTENT_LENGTHS[variant](len(body)),
    )
    udp_excess = variant == "too-large" and transport == "udp"
    refusal = "RB-sip-content-length-udp-excess" if udp_excess else None
    if not udp_excess:
        expect.record_not_applicable(
            "RB-sip-content-length-udp-excess",
            f"a {variant} Content-Length over {transport}: only a UDP request shorter than "
            "its Content-Length is judged on it",
        )
    await run_one(scene, expect, "RB-sip-content-length", stim, transport, refusal=refusal)


@pytest.mark.clause("RB-sip-unterminated")
@pytest.mark.parametrize("transport", ["udp", "tcp", pytest.param("tls", marks=pytest.mark.tls)])
async def test_unterminated_header_section(scene, expect, transport):
    stim = message(
        scene,
        f"a MESSAGE over {transport} whose header section never ends",
        b"",
        terminate=False,
    )
    await run_one(scene, expect, "RB-sip-unterminated", stim, transport)


# The 64 KiB request is one any SUT reads whole, so its answer is awaited before the probe
# (the probe must follow the stimulus); the 1.5 MiB one may be dropped unanswered with its
# connection, and waiting for an answer then would only cost the guard time.
@pytest.mark.clause("RB-sip-huge-header")
@pytest.mark.parametrize(
    "lines,size,answer_first",
    [(1, 64 * KIB, True), (24, 64 * KIB, False)],
    ids=["64KiB-value", "1.5MiB-header"],
)
async def test_huge_header(scene, expect, lines, size, answer_first):
    to, _, _ = target(scene)
    stim = render_raw(
        scene,
        "robustness/options_huge.sip.j2",
        f"an OPTIONS over TCP with {lines} header(s) of {size // KIB} KiB",
        target=f"sip:{to.host}:{to.port}",
        transport="TCP",
        lines=lines,
        filler="x" * size,
    )
    # A long header is legal, so any answer (or none) will do; what counts is staying alive.
    await run_one(
        scene, expect, "RB-sip-huge-header", stim, "tcp", may_accept=True, answer_first=answer_first
    )


INVALID_URIS = {
    "request-uri-ipv6-unclosed": {"request_uri": "sip:recipient@[::1"},
    "from-empty-host": {"from_": "<sip:@@>"},
    "to-no-scheme": {"to": "<not a uri>"},
}


@pytest.mark.clause("RB-sip-invalid-uri", "RB-sip-invalid-uri-refused")
@pytest.mark.parametrize("variant", sorted(INVALID_URIS))
async def test_invalid_uri(scene, expect, variant):
    stim = message(scene, f"a MESSAGE with an invalid URI ({variant})", **INVALID_URIS[variant])
    await run_one(scene, expect, "RB-sip-invalid-uri", stim, refusal="RB-sip-invalid-uri-refused")


# The pager-mode ICSI, percent-encoded, broken three ways.
_ICSI = encode_icsi(ICSI_MSG)
_AFTER_URN7 = _ICSI.index("urn-7%3A") + len("urn-7%3A")
FEATURE_TAGS = {
    "percent-not-hex": f'*;+g.3gpp.icsi-ref="{_ICSI[: _AFTER_URN7 - 1]}G{_ICSI[_AFTER_URN7:]}"',
    "percent-cut": f'*;+g.3gpp.icsi-ref="{_ICSI}%3"',
    "not-utf8": f'*;+g.3gpp.icsi-ref="{_ICSI[:_AFTER_URN7]}%FF%FE{_ICSI[_AFTER_URN7:]}"',
}


@pytest.mark.clause("RB-sip-feature-tag-encoding")
@pytest.mark.parametrize("variant", sorted(FEATURE_TAGS))
async def test_bad_percent_encoding_in_accept_contact(scene, expect, variant):
    stim = message(
        scene,
        f"a MESSAGE whose Accept-Contact ICSI is badly encoded ({variant})",
        accept_contact=FEATURE_TAGS[variant],
    )
    await run_one(scene, expect, "RB-sip-feature-tag-encoding", stim)


REPEATED = {
    "call-id": "Call-ID: second-{token}@robustness",
    "cseq": "CSeq: 2 MESSAGE",
    # a second From and To naming addresses the test system makes up in the domain
    "from": "From: <sip:another-sender@{domain}>;tag=other",
    "to": "To: <sip:another-recipient@{domain}>",
    "max-forwards": "Max-Forwards: 3",
}


@pytest.mark.clause("RB-sip-repeated-header", "RB-sip-repeated-header-refused")
@pytest.mark.parametrize("header", sorted(REPEATED))
async def test_single_value_header_repeated(scene, expect, header):
    line = REPEATED[header].format(token=scene.core.base_context()["tag"], domain=scene.domain)
    stim = message(scene, f"a MESSAGE with two {header} headers", extra=[line])
    await run_one(
        scene, expect, "RB-sip-repeated-header", stim, refusal="RB-sip-repeated-header-refused"
    )


@pytest.mark.clause("RB-cpim-malformed")
@pytest.mark.parametrize(
    "variant", ["no-blank-line", "unclosed-address", "no-colon", "no-content-type"]
)
async def test_malformed_cpim(scene, expect, variant):
    _, user, _ = target(scene)
    body = scene.core.templates.body(
        "robustness/cpim_malformed.j2",
        variant=variant,
        cpim_from=scene.role("originator"),
        cpim_to=user,
    )
    stim = message(scene, f"a MESSAGE with a malformed CPIM body ({variant})", body)
    await run_one(scene, expect, "RB-cpim-malformed", stim)
