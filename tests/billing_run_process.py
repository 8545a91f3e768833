"""Run ``billing run`` in a process of its own (``python -m tests.billing_run_process``), for
the tests of runs at once and of a run killed halfway.

Environment: ``RUN_CONFIG`` (the app's settings, JSON), ``RUN_UNTIL`` (ISO time),
``RUN_KILL_AFTER`` (optional: the process kills itself with SIGKILL right after the
processor's N-th answer, before phase 2 is written), ``RUN_START_AT`` (optional: a UNIX time
to wait for, so that two processes start together).
"""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import datetime


def main() -> None:
    from admin_app import create_app
    from admin_app.billing.renewals import billing_run
    from admin_app.payments import get_gateway

    app = create_app(json.loads(os.environ["RUN_CONFIG"]))
    until = datetime.fromisoformat(os.environ["RUN_UNTIL"])
    kill_after = int(os.environ.get("RUN_KILL_AFTER") or 0)
    with app.app_context():
        if kill_after:
            gateway, answers = get_gateway(), []
            real = gateway.charge

            def charge(**arguments):
                answer = real(**arguments)
                answers.append(answer)
                if len(answers) >= kill_after:
                    os.kill(os.getpid(), signal.SIGKILL)
                return answer

            gateway.charge = charge
        start_at = float(os.environ.get("RUN_START_AT") or 0)
        time.sleep(max(0.0, start_at - time.time()))
        report = billing_run(until)
        print(json.dumps({key.value: count for key, count in report.counts.items()}))


if __name__ == "__main__":
    main()
