"""TLS for the endpoints: the run's test certificates, the SSL contexts, and the key log.

Owns `make_test_pki`: a throwaway CA and one server certificate for 127.0.0.1, ::1 and
localhost, made with trustme when a run starts and written as PEM files into a folder of the
run (`TlsFiles`), and `server_context` / `client_context`, which build SSL contexts from such
files (the reference SUT reads the same files through its config). A context given a key log
file appends the secrets of every TLS connection it makes or accepts there, in the NSS key log
format that SSLKEYLOGFILE names, so that tshark shows the SIP and MSRP inside
(``tshark -r X.pcap -o tls.keylog_file:KEYLOG``). A file that cannot be loaded is a
`TlsConfigError` whose one line names the file and why.

`kept_pki` keeps the CA in a folder across runs instead (a profile's `[test_system].tls_dir`),
so an external SUT can be given it once.

Why trustme: it is the maintained library for exactly this (certificates for tests), and
generating them at run start means no key is ever committed or reused across runs.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

HOSTS = ("127.0.0.1", "::1", "localhost")
KEYLOG = "keylog.txt"


class TlsConfigError(ValueError):
    """A certificate, key or CA file that cannot be used: one line naming the file."""


@dataclass(frozen=True)
class TlsFiles:
    """Where a run's TLS material is: CA certificate, server certificate chain and key, and
    the key log every test-system context writes (None: no key log)."""

    ca: Path
    cert: Path
    key: Path
    keylog: Path | None = None

    def to_json(self) -> dict[str, str]:
        out = {"ca": str(self.ca), "cert": str(self.cert), "key": str(self.key)}
        if self.keylog is not None:
            out["keylog"] = str(self.keylog)
        return out


def make_test_pki(folder: Path, hosts: tuple[str, ...] = HOSTS, keylog: bool = True) -> TlsFiles:
    """A new CA and a server certificate for `hosts`, as PEM files in `folder`; with `keylog`
    the key log file is created empty beside them (it only ever grows)."""
    import trustme  # only a run that uses TLS needs it

    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="cpmconf test CA (throwaway, made at run start)")
    leaf = ca.issue_cert(*hosts)
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    ca.cert_pem.write_to_path(str(files.ca))
    with files.cert.open("wb") as fh:
        for blob in leaf.cert_chain_pems:
            fh.write(blob.bytes())
    leaf.private_key_pem.write_to_path(str(files.key))
    if not keylog:
        return files
    log = folder / KEYLOG
    log.touch()
    return TlsFiles(files.ca, files.cert, files.key, log)


def kept_pki(
    folder: Path, keylog: Path, hosts: tuple[str, ...] = HOSTS
) -> tuple[TlsFiles, bool]:
    """The test CA and certificate kept in `folder` (made there when missing, so a lab's SUT
    can be given the CA once), with the key log at `keylog`; returns (files, made now)."""
    kept = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    made = not all(p.is_file() for p in (kept.ca, kept.cert, kept.key))
    if made:
        kept = make_test_pki(folder, hosts, keylog=False)
    keylog.parent.mkdir(parents=True, exist_ok=True)
    keylog.touch()
    return TlsFiles(kept.ca, kept.cert, kept.key, keylog), made


def _exists(path: Path | str, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise TlsConfigError(f"TLS {what} file {path}: not found")
    return path


def server_context(
    cert: Path | str, key: Path | str, keylog: Path | str | None = None
) -> ssl.SSLContext:
    """The accepting side's context: our certificate chain and key (no client certificate
    asked for, as a SIP proxy or MSRP endpoint on loopback needs none)."""
    cert, key = _exists(cert, "certificate"), _exists(key, "private key")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(str(cert), str(key))
    except ssl.SSLError as exc:
        raise TlsConfigError(
            f"TLS certificate {cert} with key {key}: cannot load ({exc.reason or exc})"
        ) from None
    _keylog(ctx, keylog)
    return ctx


def client_context(
    ca: Path | str, keylog: Path | str | None = None, extra_ca: Path | str | None = None
) -> ssl.SSLContext:
    """The connecting side's context: trusts only `ca` (and `extra_ca`, a SUT's own CA), and
    checks the peer's name (an IP address against the certificate's IP entries)."""
    ca = _exists(ca, "CA certificate")
    try:
        ctx = ssl.create_default_context(cafile=str(ca))
    except ssl.SSLError as exc:
        why = exc.reason or exc
        raise TlsConfigError(f"TLS CA certificate {ca}: cannot load ({why})") from None
    if extra_ca is not None:
        extra = _exists(extra_ca, "CA certificate")
        try:
            ctx.load_verify_locations(cafile=str(extra))
        except ssl.SSLError as exc:
            why = exc.reason or exc
            raise TlsConfigError(f"TLS CA certificate {extra}: cannot load ({why})") from None
    _keylog(ctx, keylog)
    return ctx


def _keylog(ctx: ssl.SSLContext, keylog: Path | str | None) -> None:
    if keylog is not None:
        ctx.keylog_filename = str(keylog)


def contexts(
    files: TlsFiles, extra_ca: Path | str | None = None
) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) contexts of the run, both writing the run's key log; the client one
    also trusts `extra_ca` (an external SUT's CA)."""
    return (
        server_context(files.cert, files.key, files.keylog),
        client_context(files.ca, files.keylog, extra_ca),
    )


__all__ = [
    "HOSTS",
    "KEYLOG",
    "TlsConfigError",
    "TlsFiles",
    "client_context",
    "contexts",
    "make_test_pki",
    "server_context",
    "kept_pki",
]
