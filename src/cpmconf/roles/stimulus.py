"""Send-templates: rendering stimuli from the Jinja templates under `scenarios/`.

Owns the rules every stimulus obeys: templates render with StrictUndefined, each names the
clause ids it embodies in a `{# clauses: ... #}` comment on its first line, line endings are
CRLF, the harness (not the template) computes Content-Length, and the rendered message is parsed
back by the codec before it is sent. A template that renders something unparseable is a
`StimulusError`, the harness's fault, never the SUT's.

Three kinds of stimulus, told apart by the file name:

* SIP (``*.sip.j2``): start line and headers; :meth:`Templates.render` adds the body;
* MSRP (``*.msrp.j2``): start line and headers; :meth:`Templates.render_msrp` adds the
  content section (when the template wrote a Content-Type) and the end-line;
* bodies (``*.sdp.j2``, ``*.xml.j2``, ``*.cpim.j2`` and ``bodies/cpim.j2``, ``*.mime.j2``):
  :meth:`Templates.render_body` renders the whole body. The template's own text gets the
  line ends of its kind (CRLF for SDP, CPIM and MIME; LF for XML, as the codec's builders
  write it); values are inserted as given, so a MIME part keeps its own line ends.

Templates under ``robustness/`` render input a SUT cannot accept on purpose; they are never
parsed back.

`RENDERED` records which templates a case rendered; the plugin opens it around each case's
call and reports a template whose clause header names a clause the case does not claim.
"""

from __future__ import annotations

import re
import secrets
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import quoteattr as _quoteattr

import defusedxml
import defusedxml.ElementTree as DET
import jinja2

from cpmconf import catalogue as _catalogue
from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import encode_icsi
from cpmconf.codec.msrp import (
    DEFAULT_PORT,
    REASONS,
    ByteRange,
    MsrpMessage,
    MsrpUri,
    new_ident,
)
from cpmconf.codec.reginfo import RegInfo
from cpmconf.codec.resource_lists import ResourceList
from cpmconf.codec.sdp import SessionDescription, format_file_selector
from cpmconf.codec.sip import SipMessage, build_message
from cpmconf.roles.errors import StimulusError

SCENARIOS_DIR = _catalogue.REPO_ROOT / "scenarios"
_CLAUSES_RE = re.compile(r"\A\{#\s*clauses:\s*(?P<ids>[^#]*?)\s*#\}")


def token(nbytes: int = 8) -> str:
    return secrets.token_hex(nbytes)


@dataclass(frozen=True)
class Stimulus:
    """A rendered, parsed message ready to send, with the template and clauses behind it."""

    template: str
    clauses: tuple[str, ...]
    raw: bytes
    message: SipMessage

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class MsrpStimulus:
    """A rendered, parsed MSRP message ready to send, with the template and clauses behind it."""

    template: str
    clauses: tuple[str, ...]
    raw: bytes
    message: MsrpMessage

    @property
    def transaction_id(self) -> str:
        return self.message.transaction_id

    def __bytes__(self) -> bytes:
        return self.raw


class RenderLog:
    """The templates rendered while the log is open, with the clauses each names, in order.

    One per process (`RENDERED`): the plugin opens it before a case's test function runs and
    takes it afterwards; renders outside (fixture set-up, between cases) are not recorded.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: list[tuple[str, tuple[str, ...]]] | None = None

    def open(self) -> None:
        with self._lock:
            self._seen = []

    def take(self) -> list[tuple[str, tuple[str, ...]]]:
        """What was rendered since `open` (each template once, first use first); closes."""
        with self._lock:
            seen, self._seen = self._seen or [], None
        return list(dict.fromkeys(seen))

    def note(self, name: str, clauses: tuple[str, ...]) -> None:
        with self._lock:
            if self._seen is not None:
                self._seen.append((name, clauses))


RENDERED = RenderLog()


def unclaimed(
    rendered: Iterable[tuple[str, tuple[str, ...]]], claimed: Iterable[str]
) -> list[tuple[str, str]]:
    """(template, clause) for each clause a rendered template names that the case does not
    claim: the template says it embodies a clause this case is not testing."""
    claims = set(claimed)
    return [(name, c) for name, clauses in rendered for c in clauses if c not in claims]


# -- body kinds ---------------------------------------------------------------------------------


def _parse_xml(data: bytes) -> None:
    try:
        root = DET.fromstring(data, forbid_dtd=True)
    except (defusedxml.DefusedXmlException, ET.ParseError, ValueError, LookupError) as exc:
        raise CodecError("XML body", f"not well-formed or unsafe XML ({exc})") from exc
    ns = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    if ns == "urn:ietf:params:xml:ns:reginfo":
        RegInfo.parse(data)
    elif ns == "urn:ietf:params:xml:ns:resource-lists":
        ResourceList.parse(data)


def _parse_multipart(data: bytes) -> None:
    # RFC 2046 5.1.1: a first boundary line "--b", parts, a closing "--b--"; the parts are
    # the business of the templates that rendered them.
    first, _, _ = data.partition(b"\r\n")
    if not first.startswith(b"--") or len(first) < 3:
        raise CodecError("multipart body", f"does not open with a boundary line: {first[:60]!r}")
    if not data.rstrip(b"\r\n").endswith(first + b"--"):
        raise CodecError("multipart body", "does not close with its boundary")
    for part in data.split(first)[1:-1]:
        if b"\r\n\r\n" not in part:
            raise CodecError("multipart body", "a part without its header block")


@dataclass(frozen=True)
class _Kind:
    name: str
    newline: str
    parse: Callable[[bytes], object]
    trailing: bool  # keep the line end after the last line


_KINDS = {
    ".sdp.j2": _Kind("SDP", "\r\n", SessionDescription.parse, True),
    ".xml.j2": _Kind("XML", "\n", _parse_xml, True),
    ".cpim.j2": _Kind("CPIM", "\r\n", CpimMessage.parse, False),
    ".mime.j2": _Kind("multipart", "\r\n", _parse_multipart, True),
}
_KINDS_BY_NAME = {"bodies/cpim.j2": _KINDS[".cpim.j2"]}


def body_kind(name: str) -> _Kind | None:
    """The body kind a template renders, from its name; None for SIP, MSRP and robustness."""
    if name.startswith("robustness/"):
        return None
    if name in _KINDS_BY_NAME:
        return _KINDS_BY_NAME[name]
    return next((k for suffix, k in _KINDS.items() if name.endswith(suffix)), None)


def _words(value) -> str:
    """A list of URIs or media types as one space-separated value; a string as it is."""
    if isinstance(value, str | MsrpUri):
        return str(value)
    return " ".join(str(v) for v in value)


def _msrp_port(path) -> int:
    """The port of the last URI of an MSRP path (our own), else the MSRP default."""
    uris = _words(path).split()
    if not uris:
        raise CodecError("MSRP path", "empty path")
    return MsrpUri.parse(uris[-1]).port or DEFAULT_PORT


def _file_selector(value) -> str:
    return value if isinstance(value, str) else format_file_selector(**dict(value))


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


class Templates:
    """The template library, checked against the clause catalogue when loaded."""

    def __init__(
        self, directory: Path = SCENARIOS_DIR, catalogue: _catalogue.Catalogue | None = None
    ):
        self.directory = Path(directory)
        self.catalogue = catalogue
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.directory)),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        helpers = dict(
            token=token,
            encode_icsi=encode_icsi,
            words=_words,
            msrp_port=_msrp_port,
            format_file_selector=_file_selector,
            quoteattr=_quoteattr,
            xml_escape=_xml_escape,
        )
        self.env.globals.update(helpers)
        # Body templates: the template's own line breaks become the kind's line end; values
        # are inserted untouched.
        self._body_envs = {}
        for nl in ("\r\n", "\n"):
            env = self.env.overlay(newline_sequence=nl)
            env.globals.update(helpers)
            self._body_envs[nl] = env
        self._clauses: dict[str, tuple[str, ...]] = {}

    def clauses_of(self, name: str) -> tuple[str, ...]:
        if name not in self._clauses:
            path = self.directory / name
            try:
                head = path.read_text(encoding="utf-8")[:2000]
            except OSError as exc:
                raise StimulusError(name, f"cannot read {path}: {exc}") from exc
            m = _CLAUSES_RE.match(head)
            if not m:
                raise StimulusError(name, "first line must be a '{# clauses: ID ... #}' comment")
            ids = tuple(m["ids"].split())
            if self.catalogue is not None:
                unknown = [i for i in ids if i not in self.catalogue]
                if unknown:
                    raise StimulusError(name, f"names unknown clause id(s) {', '.join(unknown)}")
            self._clauses[name] = ids
        return self._clauses[name]

    def check_all(self) -> list[str]:
        """Validate every template's clause header; returns the template names."""
        names = sorted(str(p.relative_to(self.directory)) for p in self.directory.rglob("*.j2"))
        for name in names:
            self.clauses_of(name)
        return names

    def _render_text(self, name: str, context: dict, env: jinja2.Environment | None = None) -> str:
        clauses = self.clauses_of(name)
        RENDERED.note(name, clauses)
        try:
            return (env or self.env).get_template(name).render(clauses=clauses, **context)
        except jinja2.UndefinedError as exc:
            raise StimulusError(name, f"undefined value: {exc.message}") from exc
        except jinja2.TemplateError as exc:
            raise StimulusError(name, f"{type(exc).__name__}: {exc}") from exc
        except (CodecError, ValueError, TypeError) as exc:  # from a helper (words, msrp_port)
            raise StimulusError(name, f"bad value: {exc}") from exc

    def render_raw(self, name: str, **context) -> str:
        """Render a template as text, never parsed back: for `robustness/` templates, which
        write input a SUT cannot accept on purpose. Recorded like every other render."""
        return self._render_text(name, context)

    def body(self, name: str, **context) -> bytes:
        """Render a body template (CPIM, XML); CRLF line endings, nothing after the last line
        (a trailing newline would become part of the CPIM content). A body of a known kind
        (see `body_kind`) is parsed back; robustness bodies are not."""
        raw = _crlf(self._render_text(name, context).strip("\r\n")).encode("utf-8")
        kind = body_kind(name)
        if kind is not None:
            self._parse_back(name, kind, raw)
        return raw

    def _parse_back(self, name: str, kind: _Kind, raw: bytes) -> None:
        try:
            kind.parse(raw)
        except (CodecError, ValueError) as exc:
            raise StimulusError(name, f"rendered an unparseable {kind.name} body: {exc}") from exc

    def render_body(self, name: str, **context) -> bytes:
        """Render a body template of a known kind (SDP, XML, CPIM, multipart) and parse it
        back with the codec; the bytes are what goes on the wire."""
        kind = body_kind(name)
        if kind is None:
            raise StimulusError(name, "is not a body template (*.sdp.j2, *.xml.j2, ...)")
        text = self._render_text(name, context, self._body_envs[kind.newline])
        text = text.lstrip("\r\n")  # the clause comment's line
        text = text.rstrip("\r\n") + (kind.newline if kind.trailing else "")
        raw = text.encode("utf-8")
        self._parse_back(name, kind, raw)
        return raw

    def multipart(
        self,
        parts: Iterable[tuple[str, bytes]],
        name: str = "bodies/multipart_mixed.mime.j2",
        boundary: str | None = None,
    ) -> tuple[str, bytes]:
        """A multipart/mixed body of `parts` ((content type, bytes) each, UTF-8), and the
        Content-Type naming its boundary."""
        boundary = boundary or "cpmconf-" + token(8)
        try:
            texts = [(ctype, bytes(part).decode("utf-8")) for ctype, part in parts]
        except UnicodeDecodeError as exc:
            raise StimulusError(name, f"a part is not UTF-8 text: {exc}") from exc
        body = self.render_body(name, boundary=boundary, parts=texts)
        return f"multipart/mixed;boundary={boundary}", body

    def render_msrp(
        self, name: str, body: bytes = b"", *, tid: str, flag: str = "$", **context
    ) -> MsrpStimulus:
        """Render an MSRP template (start line and headers) and parse the message back.

        The harness adds the content section, when the template wrote a Content-Type (an
        empty body then gives an empty section, as RFC 4975 allows), and the end-line with
        `tid` and the continuation `flag`. A body holding the end-line is a StimulusError.
        """
        text = self._render_text(name, {"tid": tid, **context})
        lines = [ln.rstrip("\r") for ln in text.strip("\r\n").split("\n")]
        lines = [ln for ln in lines if ln.strip()]
        if not lines:
            raise StimulusError(name, "rendered nothing")
        for ln in lines[1:]:
            hname, sep, _ = ln.partition(":")
            if not sep or not hname.strip() or " " in hname:
                raise StimulusError(name, f"not a header line: {ln!r}")
        has_content = any(ln.lower().startswith("content-type:") for ln in lines[1:])
        if body and not has_content:
            raise StimulusError(name, "a body needs a Content-Type header")
        raw = ("\r\n".join(lines) + "\r\n").encode("utf-8")
        if has_content:
            raw += b"\r\n" + bytes(body) + b"\r\n"
        raw += f"-------{tid}{flag}\r\n".encode("ascii")
        try:
            message = MsrpMessage.parse(raw)
        except (CodecError, ValueError) as exc:
            raise StimulusError(name, f"rendered an unparseable MSRP message: {exc}") from exc
        if message.transaction_id != tid:
            raise StimulusError(name, f"start line names transaction {message.transaction_id}")
        return MsrpStimulus(name, self.clauses_of(name), raw, message)

    def msrp_response(
        self,
        request: MsrpMessage,
        code: int,
        comment: str | None = None,
        *,
        own_uri: str | MsrpUri | None = None,
        name: str = "msrp/response.msrp.j2",
    ) -> MsrpStimulus:
        """The response to an MSRP request (RFC 4975 section 7.2): To-Path the first URI of
        its From-Path, From-Path `own_uri` (default: the first URI of its To-Path), the
        RFC 4975 reason phrase unless `comment`. REPORTs are never answered."""
        if request.method is None or request.method == "REPORT":
            raise StimulusError(name, "only a request other than REPORT is answered")
        return self.render_msrp(
            name,
            tid=request.transaction_id,
            code=code,
            comment=REASONS.get(code) if comment is None else comment,
            to_path=str(request.from_path()[0]),
            from_path=request.to_path()[0] if own_uri is None else own_uri,
        )

    def msrp_report(
        self,
        send: MsrpMessage,
        tid: str,
        code: int = 200,
        comment: str | None = None,
        *,
        own_uri: str | MsrpUri | None = None,
        byte_range: ByteRange | None = None,
        name: str = "msrp/report.msrp.j2",
    ) -> MsrpStimulus:
        """A REPORT on a received SEND (RFC 4975 section 7.1.2): To-Path its whole From-Path,
        From-Path `own_uri` (default: the last URI of its To-Path), its Message-ID, the bytes
        it carried unless `byte_range`, Status ``000 <code> <comment>``."""
        if send.method != "SEND" or send.message_id is None:
            raise StimulusError(name, "a REPORT is on a SEND with a Message-ID")
        if byte_range is None:
            br = send.byte_range() or ByteRange(1, None, None)
            end = br.start + len(send.body) - 1
            total = (
                br.total if br.total is not None else (end if send.continuation == "$" else None)
            )
            byte_range = ByteRange(br.start, end, total)
        return self.render_msrp(
            name,
            tid=tid,
            code=code,
            comment=REASONS.get(code) if comment is None else comment,
            to_path=send.header_values("From-Path")[0],
            from_path=send.to_path()[-1] if own_uri is None else own_uri,
            message_id=send.message_id,
            byte_range=str(byte_range),
        )

    def msrp_chunks(
        self,
        body: bytes,
        chunk_size: int | Iterable[int],
        name: str = "msrp/send.msrp.j2",
        *,
        transaction_ids: Iterable[str] | None = None,
        total_known: bool = True,
        **context,
    ) -> Iterator[MsrpStimulus]:
        """The SENDs that carry `body` in chunks (RFC 4975 section 5.1), as the codec's
        `chunk` cuts them: `chunk_size` one size or sizes in turn (the rest in a last chunk),
        Byte-Range ``start-end/total`` (``*`` unless `total_known`), flag ``+`` then ``$``,
        one body-less SEND for an empty body. The template gets `byte_range` and
        `content_type` (None for an empty chunk) on top of `context`."""
        body = bytes(body)
        content_type = context.pop("content_type", "message/cpim")
        if isinstance(chunk_size, int):
            if chunk_size < 1:
                raise StimulusError(name, f"chunk size must be positive: {chunk_size}")
            sizes = None
        else:
            sizes = iter(chunk_size)
        tids = None if transaction_ids is None else iter(transaction_ids)
        total = len(body) if total_known else None
        pos = 0
        while True:
            size = chunk_size if sizes is None else (next(sizes, len(body) - pos) or 0)
            if size < 1 and pos < len(body):
                raise StimulusError(name, f"chunk size must be positive: {size}")
            piece = body[pos : pos + size]
            last = pos + len(piece) >= len(body)
            tid = new_ident() if tids is None else next(tids, None)
            if tid is None:
                raise StimulusError(name, "ran out of transaction ids")
            while tids is None and f"-------{tid}".encode() in piece:
                tid = new_ident()  # a random id whose end-line occurs in the piece
            yield self.render_msrp(
                name,
                piece,
                tid=tid,
                flag="$" if last else "+",
                byte_range=str(ByteRange(pos + 1, pos + len(piece), total)),
                content_type=content_type if piece else None,
                **context,
            )
            pos += len(piece)
            if last:
                return

    def render(self, name: str, body: bytes | str = b"", **context) -> Stimulus:
        """Render a SIP message template; `body` (if any) follows the header block."""
        text = self._render_text(name, context)
        lines = [ln.rstrip("\r") for ln in text.strip("\r\n").split("\n")]
        lines = [ln for ln in lines if ln.strip()]  # templates may leave blank optional lines
        if not lines:
            raise StimulusError(name, "rendered nothing")
        headers = []
        for ln in lines[1:]:
            hname, sep, value = ln.partition(":")
            if not sep or not hname.strip() or " " in hname.strip():
                raise StimulusError(name, f"not a header line: {ln!r}")
            if hname.strip().lower() in ("content-length", "l"):
                continue  # the harness computes it
            headers.append((hname.strip(), value.strip()))
        if isinstance(body, str):
            body = body.encode("utf-8")
        try:
            raw = build_message(lines[0], headers, body)
            message = SipMessage.parse(raw)
        except (CodecError, ValueError) as exc:
            raise StimulusError(name, f"rendered an unparseable message: {exc}") from exc
        return Stimulus(name, self.clauses_of(name), raw, message)
