"""One websocket client connection on a plain socket: no thread, no event loop.

The `websockets` package's sans-I/O `ClientProtocol` does the protocol (handshake,
framing, pings, close); this module moves its bytes. The session waits on `fileno()`
itself, so the feed never starts a thread the session's forked scans would inherit.
"""

from __future__ import annotations

import select
import socket
import time

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from scanner_core.feeds.wire import MAX_MESSAGE_BYTES


class ConnectionClosed(Exception):
    """The connection ended or failed; the message says how."""


class Connection:
    """A connected, handshaken websocket client; `receive` never blocks."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        uri = parse_uri(url)
        self.protocol = ClientProtocol(uri, max_size=MAX_MESSAGE_BYTES)
        self._parts: list[bytes] = []
        self._texts: list[str] = []
        #: Why the connection ended, once it did.
        self.ended: str | None = None
        try:
            # An address, not a name to resolve in a helper thread: create_connection
            # resolves here, in the session's own thread.
            self.sock = socket.create_connection((uri.host, uri.port), timeout=timeout)
        except OSError as exc:
            raise ConnectionClosed(f"cannot connect to {url}: {exc}") from None
        self.sock.setblocking(False)
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        self._handshake(time.monotonic() + timeout)

    def _handshake(self, deadline: float) -> None:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                self.close()
                raise ConnectionClosed(f"{self.url}: no websocket handshake in time")
            self._read()
            answered = False
            for event in self.protocol.events_received():
                if isinstance(event, Response):
                    answered = True
                elif isinstance(event, Frame):
                    self._frame(event)
            if self.protocol.handshake_exc is not None:
                self.close()
                raise ConnectionClosed(f"{self.url}: {self.protocol.handshake_exc}")
            if answered:
                return
            if self.ended:
                raise ConnectionClosed(f"{self.url}: {self.ended} during the handshake")

    def fileno(self) -> int:
        """The socket, for select."""
        return self.sock.fileno()

    def send(self, text: str) -> None:
        """Send one text message."""
        self.protocol.send_text(text.encode())
        self._flush()

    def receive(self) -> list[str]:
        """The text messages that arrived, without waiting; ConnectionClosed once it ended
        and every message before the end was taken."""
        self._read()
        for event in self.protocol.events_received():
            if isinstance(event, Frame):
                self._frame(event)
        self._flush()
        texts, self._texts = self._texts, []
        if not texts and (self.ended or self.protocol.close_code is not None):
            raise ConnectionClosed(self._why())
        return texts

    def _read(self) -> None:
        """Read everything the socket has now into the protocol."""
        while self.ended is None:
            try:
                data = self.sock.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self.ended = f"connection lost ({exc})"
                return
            if not data:
                self.protocol.receive_eof()
                self.ended = "connection lost (end of stream)"
                return
            self.protocol.receive_data(data)

    def _frame(self, frame: Frame) -> None:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            self._parts.append(bytes(frame.data))
            if frame.fin:
                data, self._parts = b"".join(self._parts), []
                self._texts.append(data.decode("utf-8", errors="replace"))

    def _why(self) -> str:
        if self.protocol.close_code is not None:
            reason = self.protocol.close_reason or "no reason given"
            return f"closed by the server (code {int(self.protocol.close_code)}: {reason})"
        return self.ended or "connection lost"

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if not data:
                continue
            try:
                self.sock.setblocking(True)
                self.sock.sendall(data)
                self.sock.setblocking(False)
            except OSError as exc:
                self.ended = self.ended or f"connection lost ({exc})"
                return

    def close(self) -> None:
        """Close the socket (no closing handshake: the session is done with it)."""
        self.sock.close()
