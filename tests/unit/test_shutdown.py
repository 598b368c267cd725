"""The stop request: the first signal sets it, a second exits at once, handlers restored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from processes import gone

from scanner_core import shutdown
from scanner_core.shutdown import SessionStopped, handling_signals


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_the_first_signal_only_asks_to_stop(signum, code):
    before = {s: signal.getsignal(s) for s in shutdown.SIGNALS}
    with handling_signals() as stop:
        assert shutdown.current() is stop and not stop.requested
        shutdown.check()  # nothing asked yet
        os.kill(os.getpid(), signum)
        assert stop.requested and stop.signum == signum and stop.exit_code == code
        with pytest.raises(SessionStopped, match=f"stopped by {signal.Signals(signum).name}"):
            shutdown.check()
    assert shutdown.current() is None
    assert {s: signal.getsignal(s) for s in shutdown.SIGNALS} == before
    shutdown.check()  # without a handler, nothing is ever requested


@pytest.mark.parametrize(
    "exc", [SystemExit(1), GeneratorExit(), type("Custom", (BaseException,), {})(), ValueError()]
)
def test_every_base_exception_from_plugin_code_is_a_plugin_failure(exc):
    assert shutdown.is_plugin_failure(exc)


def test_a_keyboard_interrupt_is_a_plugin_failure_only_while_the_handler_is_installed():
    assert not shutdown.is_plugin_failure(KeyboardInterrupt())
    with handling_signals():
        assert shutdown.is_plugin_failure(KeyboardInterrupt())


def test_a_second_signal_exits_at_once_with_its_code_and_ends_the_children():
    code = (
        "import subprocess, sys, time\n"
        "from scanner_core.shutdown import handling_signals\n"
        "with handling_signals():\n"
        "    child = subprocess.Popen(['sleep', '300'])\n"
        "    print(child.pid, flush=True)\n"
        "    time.sleep(300)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = int(proc.stdout.readline())
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.1)  # the first one only sets the flag: the process sleeps on
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    assert gone([child]) == []
