"""The daemon's logs carry the sandbox's stdlib-logging lines (its compile notice) as JSON."""

from __future__ import annotations

import json
import subprocess
import sys


def test_sandbox_notice_becomes_a_json_log_line() -> None:
    # A fresh process: configure_logging is process-wide, as in `swarm serve`.
    code = (
        "import logging\n"
        "from swarm.daemon import configure_logging\n"
        "configure_logging('info')\n"
        "logging.getLogger('sandbox').info('sandbox: compiling the %s interpreter', 'x')\n"
        "logging.getLogger('sandbox').debug('not at info level')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0]["event"] == "sandbox: compiling the x interpreter"
    assert lines[0]["level"] == "info" and "timestamp" in lines[0]
