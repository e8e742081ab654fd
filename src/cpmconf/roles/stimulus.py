"""Send-templates: rendering stimuli from the Jinja templates under `scenarios/`.

Owns the rules every stimulus obeys: templates render with StrictUndefined, each names the
clause ids it embodies in a `{# clauses: ... #}` comment on its first line, line endings are
CRLF, the harness (not the template) computes Content-Length, and the rendered message is parsed
back by the codec before it is sent. A template that renders something unparseable is a
`StimulusError`, the harness's fault, never the SUT's.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import jinja2

from cpmconf import catalogue as _catalogue
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import encode_icsi
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
        self.env.globals.update(token=token, encode_icsi=encode_icsi)
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

    def _render_text(self, name: str, context: dict) -> str:
        clauses = self.clauses_of(name)
        try:
            return self.env.get_template(name).render(clauses=clauses, **context)
        except jinja2.UndefinedError as exc:
            raise StimulusError(name, f"undefined value: {exc.message}") from exc
        except jinja2.TemplateError as exc:
            raise StimulusError(name, f"{type(exc).__name__}: {exc}") from exc

    def body(self, name: str, **context) -> bytes:
        """Render a body template (CPIM, XML); CRLF line endings, nothing after the last line
        (a trailing newline would become part of the CPIM content)."""
        return _crlf(self._render_text(name, context).strip("\r\n")).encode("utf-8")

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
