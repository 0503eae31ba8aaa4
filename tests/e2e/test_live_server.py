"""The server the browser tests run against: a connection the browser drops leaves nothing open."""

import gc
import socket
import struct
import time

import pytest

pytestmark = pytest.mark.e2e

# SO_LINGER on with a zero timeout: close() resets the connection, as a browser closing a tab.
RESET_ON_CLOSE = struct.pack("ii", 1, 0)


def test_a_static_file_is_closed_when_the_browser_drops_the_connection(live_server):
    """Without `closing_responses` each reset left favicon.svg open; pytest reports the
    collected file's ResourceWarning as an error of this test."""
    port = int(live_server.url.rsplit(":", 1)[1])
    for _ in range(30):
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(b"GET /static/img/favicon.svg HTTP/1.1\r\nHost: portal\r\n\r\n")
            time.sleep(0.005)
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_ON_CLOSE)
    time.sleep(0.5)
    gc.collect()
