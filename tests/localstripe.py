"""localstripe, a Stripe-compatible server, for testing the panel on the Stripe gateway
(a pytest plugin loaded by ``tests/conftest.py``, so every test folder can use it).

It runs in a subprocess on 127.0.0.1 on a free port for the whole session, with its saving to
``/tmp/localstripe.pickle`` disabled (see ../shared/RECIPES.md), and is emptied before each
test that uses it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

# Disable the pickling before localstripe.server is imported (it builds the store on import).
_SERVER = """
import sys
import localstripe.resources
localstripe.resources.Store.dump_to_disk = lambda self: None
from aiohttp import web
from localstripe.server import app
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(base: str) -> bool:
    try:
        urllib.request.urlopen(f"{base}/v1/customers", timeout=1)
    except urllib.error.HTTPError:
        return True  # 401 without a key: it is up
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory):
    """The base URL of a running localstripe, e.g. ``http://127.0.0.1:40123``."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("localstripe") / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen([sys.executable, "-c", _SERVER, str(port)],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not _answers(base):
            if process.poll() is not None:
                raise RuntimeError("localstripe did not start: "
                                   + log_path.read_text(errors="replace"))
            if time.monotonic() > deadline:
                raise RuntimeError("localstripe did not answer within 30 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


_last_used = {"at": 0.0}  # when the last test that used localstripe ended (monotonic clock)
DELIVERY_DELAY = 1.0  # localstripe sends each event's webhooks this long after the event


@pytest.fixture
def localstripe(localstripe_server):
    """localstripe emptied of everything earlier tests made; its base URL."""
    request = urllib.request.Request(f"{localstripe_server}/_config/data", method="DELETE")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    yield localstripe_server
    _last_used["at"] = time.monotonic()


def wait_for_owed_deliveries() -> None:
    """Wait until localstripe has sent the webhooks it still owes for earlier tests' events
    (emptying it does not cancel them), so that an endpoint registered now gets only this
    test's events."""
    time.sleep(max(0.0, _last_used["at"] + DELIVERY_DELAY + 0.5 - time.monotonic()))


@pytest.fixture
def stripe_gateway(localstripe):
    from admin_app.payments.stripe_gateway import StripeGateway

    return StripeGateway(secret_key="sk_test_x", api_base=localstripe)


if __name__ == "__main__":  # `make localstripe`: the same server, in the foreground
    exec(_SERVER)
