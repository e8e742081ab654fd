"""The reference PF's recording over IMAP (refsut.imapstore, refsut.recording) against a fake
IMAP server on loopback: the UID is the APPENDUID's, a server without UIDPLUS or one that
refuses gives no UID (never a made-up one), each side goes to its own user's folder, and the
four store fault switches change exactly what they say."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from refsut.faults import Faults
from refsut.imapstore import ImapRecorder, MessageStoreConfig, StoreAccount, appenduid
from refsut.recording import TRUNCATED, UID_SHIFT, Recording
from refsut.store import MessageStore

ACCOUNTS = (
    StoreAccount("sip:alice@example.net", "alice", "pa"),
    StoreAccount("sip:erin@example.net", "erin", "pe"),
    StoreAccount("sip:bob@example.net", "bob", "pb"),
)
RAW = (
    b"MESSAGE sip:erin@example.net SIP/2.0\r\nCall-ID: k@h\r\nConversation-ID: c1\r\n"
    b"Content-Length: 10\r\n\r\n0123456789"
)


class FakeImap:
    """Just enough IMAP4rev1 for imaplib's LOGIN, APPEND (literal) and LOGOUT."""

    def __init__(self, uidplus: bool = True, refuse: bool = False) -> None:
        self.uidplus, self.refuse = uidplus, refuse
        self.appended: list[tuple[str, str, bytes]] = []  # (login, folder, literal)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.address = self.sock.getsockname()
        self.uids: dict[tuple[str, str], int] = {}
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5.0)
                self._session(conn.makefile("rwb"))

    def _session(self, f) -> None:
        f.write(b"* OK [CAPABILITY IMAP4rev1 UIDPLUS] fake ready\r\n")
        f.flush()
        user = ""
        while line := f.readline():
            tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
            cmd, _, args = rest.partition(b" ")
            cmd = cmd.upper()
            if cmd == b"CAPABILITY":
                f.write(b"* CAPABILITY IMAP4rev1 UIDPLUS\r\n" + tag + b" OK done\r\n")
            elif cmd == b"LOGIN":
                user = args.split(b" ")[0].strip(b'"').decode()
                f.write(tag + b" OK logged in\r\n")
            elif cmd == b"APPEND":
                folder = args.split(b" ")[0].strip(b'"').decode()
                size = int(args.rsplit(b"{", 1)[1].rstrip(b"}"))
                f.write(b"+ go\r\n")
                f.flush()
                literal = f.read(size)
                f.readline()
                if self.refuse:
                    f.write(tag + b" NO [OVERQUOTA] full\r\n")
                else:
                    self.appended.append((user, folder, literal))
                    n = self.uids[(user, folder)] = self.uids.get((user, folder), 40) + 1
                    code = b"[APPENDUID 99 %d] " % n if self.uidplus else b""
                    f.write(tag + b" OK " + code + b"appended\r\n")
            elif cmd == b"LOGOUT":
                f.write(b"* BYE\r\n" + tag + b" OK bye\r\n")
                f.flush()
                return
            else:
                f.write(tag + b" BAD unknown\r\n")
            f.flush()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server():
    s = FakeImap()
    yield s
    s.close()


def config(server, folder: str = "INBOX") -> MessageStoreConfig:
    return MessageStoreConfig(server.address, folder, ACCOUNTS)


def test_appenduid_is_read_from_the_tagged_ok():
    assert appenduid([b"[APPENDUID 1796325863 17] Append completed."]) == 17
    assert appenduid([b"Append completed."]) is None
    assert appenduid([]) is None


def test_the_uid_is_the_servers_and_the_folder_the_owners(server):
    rec = ImapRecorder(config(server, "CPM/{user}"))
    assert rec.append("<sip:Erin@example.net>;tag=9", RAW) == 41
    assert rec.append("sip:erin@example.net", RAW) == 42
    assert server.appended[0] == ("erin", "CPM/erin", RAW)


def test_no_uidplus_or_a_refusal_gives_no_uid():
    for fake in (FakeImap(uidplus=False), FakeImap(refuse=True)):
        try:
            assert (
                asyncio.run(ImapRecorder(config(fake)).record("sip:erin@example.net", RAW)) is None
            )
        finally:
            fake.close()


def test_an_unreachable_store_gives_no_uid_within_the_bound():
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    rec = ImapRecorder(MessageStoreConfig(("127.0.0.1", port), "INBOX", ACCOUNTS), timeout=1.0)
    assert asyncio.run(rec.record("sip:erin@example.net", RAW)) is None


def record(server, faults=(), mode="pager", sides=("originating", "terminating")):
    rec = Recording(sides, Faults(list(faults)), MessageStore(), config(server))
    sender = "<sip:alice@example.net>;tag=1"
    return asyncio.run(rec.record(sender, "sip:erin@example.net", RAW, "k@h", mode))


def test_each_side_is_stored_in_its_own_users_store(server):
    assert record(server) == (41, 41)
    assert sorted((u, f) for u, f, _ in server.appended) == [("alice", "INBOX"), ("erin", "INBOX")]
    assert all(raw == RAW for _, _, raw in server.appended)
    assert record(server, sides=("terminating",)) == (None, 42)


def test_without_a_message_store_sqlite_records_one_uid_for_both_sides():
    rec = Recording(("originating", "terminating"), Faults([]), MessageStore())
    orig, term = asyncio.run(
        rec.record("sip:alice@example.net", "sip:erin@example.net", RAW, "k", "pager")
    )
    assert orig == term and orig > 0
    assert not Recording((), Faults([]), MessageStore())


def test_the_store_fault_switches(server):
    assert record(server, ["pf.store-uid-not-stored"]) == (41 + UID_SHIFT, 41 + UID_SHIFT)
    server.appended.clear()
    record(server, ["pf.store-header-dropped"])
    assert all(b"Conversation-ID" not in raw and b"Call-ID" in raw for _, _, raw in server.appended)
    server.appended.clear()
    record(server, ["pf.store-body-truncated"], mode="large")
    assert all(raw == RAW[:-TRUNCATED] for _, _, raw in server.appended)
    server.appended.clear()
    record(server, ["pf.store-wrong-user"], mode="large")
    assert [u for u, _, _ in server.appended] == ["bob", "bob"]
    # Pager switches leave large mode alone and the other way round.
    server.appended.clear()
    record(server, ["pf.store-header-dropped", "pf.store-wrong-user"], mode="pager")
    assert sorted(u for u, _, _ in server.appended) == ["alice", "erin"]
