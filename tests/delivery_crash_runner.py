"""Deliver one message in a process of its own that dies (SIGKILL) right after the provider
accepted it, before the outcome is written (``python -m tests.delivery_crash_runner``).

The provider is real (the loopback SMTP or Twilio-compatible server): the only thing added
here is where the process dies, as a worker killed by a deploy or the OOM killer would.

Environment: ``CRASH_CONFIG`` (the app's settings, JSON), ``CRASH_MESSAGE`` (the message id).
"""

from __future__ import annotations

import json
import os
import signal


def main() -> None:
    from admin_app import create_app
    from admin_app.documents import providers, sending

    app = create_app(json.loads(os.environ["CRASH_CONFIG"]))
    for provider in (providers.SmtpProvider, providers.TwilioProvider):
        real = provider.send

        def send(self, *args, _real=real, **kwargs):
            answer = _real(self, *args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)
            return answer

        provider.send = send
    with app.app_context():
        sending.deliver(int(os.environ["CRASH_MESSAGE"]))


if __name__ == "__main__":
    main()
