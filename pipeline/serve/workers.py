"""`healthcoop serve --workers N`: N pre-forked processes serving one listening socket.

In:  a server made by `pipeline.serve.server.make_server` (bound and listening, the site and
     the reconciliation index loaded, not yet serving) and the number of workers.
Out: `run_workers(server, n)` returns only by an exception: it forks n worker processes
     that each run the server's accept loop on the one socket (the kernel gives each new
     connection to one of them; a keep-alive connection stays with its worker), so
     concurrent requests use every core instead of taking turns at one interpreter's lock.
     The workers share what was loaded before the fork.

Stopping: Ctrl-C (SIGINT to the terminal's process group: the workers ignore it) or SIGTERM
to the parent sends SIGTERM to every worker, waits for them (SIGKILL after STOP_WAIT
seconds), and then ends the parent as a single server ends: KeyboardInterrupt for Ctrl-C,
death by SIGTERM for SIGTERM. A worker whose parent is gone (killed by SIGKILL) notices
within a poll interval and exits, so no worker outlives its parent. A worker that dies is
replaced, unless it died within QUICK_DEATH seconds of starting: then every worker is
stopped and the parent raises EnvironmentProblem rather than forking again and again.
"""

from __future__ import annotations

import os
import signal
import time

from pipeline.errors import EnvironmentProblem

POLL = 0.5          # seconds between a worker's checks that its parent is alive
STOP_WAIT = 5.0     # seconds a worker has to exit after SIGTERM
QUICK_DEATH = 2.0   # a worker dead this soon after its start is a fault, not bad luck


class _Terminated(Exception):
    """SIGTERM reached the parent."""


def run_workers(server, workers: int) -> None:
    """Fork `workers` processes serving `server`'s socket and supervise them (see the module
    docstring). The caller closes the server when this raises."""
    parent = os.getpid()
    started: dict[int, float] = {}

    def on_term(signum, frame):
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        for _ in range(workers):
            _fork(server, parent, started)
        while True:
            pid, status = os.wait()
            born = started.pop(pid, None)
            if born is None:
                continue
            if time.monotonic() - born < QUICK_DEATH:
                raise EnvironmentProblem(
                    f"a serve worker exited right after starting ({_how(status)})",
                    fix="Run `healthcoop serve` without --workers to see the problem.")
            _fork(server, parent, started)
    except _Terminated:
        _stop(started)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)  # end as a single server ends on SIGTERM
        raise  # not reached: SIGTERM's default action ends the process
    finally:
        _stop(started)
        signal.signal(signal.SIGTERM, previous)


def _fork(server, parent: int, started: dict[int, float]) -> None:
    """Fork one worker and record it in `started`. SIGINT and SIGTERM stay blocked from
    before the fork until the worker has its own dispositions and the parent has recorded
    it: a signal arriving in between would otherwise run the parent's handler inside the
    new worker (in its after-fork hooks, where Python can only print the exception) or
    leave a worker the parent does not know about."""
    stopping = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stopping)
    try:
        pid = os.fork()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping)
        raise
    if pid:
        started[pid] = time.monotonic()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping)  # a pending signal runs here
        return
    # the worker: never returns into the parent's code (no click, no atexit handlers)
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops us
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping)  # a pending SIGTERM ends us

        def orphaned() -> None:
            if os.getppid() != parent:
                os._exit(0)

        server.service_actions = orphaned  # called by serve_forever every POLL seconds
        server.serve_forever(poll_interval=POLL)
    except BaseException:  # noqa: BLE001 - a worker ends with a status, never a traceback
        code = 1
    finally:
        os._exit(code)


def _stop(started: dict[int, float]) -> None:
    """SIGTERM to every worker still running, then wait for each (SIGKILL after STOP_WAIT)."""
    for pid in list(started):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            started.pop(pid)
    deadline = time.monotonic() + STOP_WAIT
    while started:
        for pid in list(started):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                started.pop(pid)
        if started and time.monotonic() > deadline:
            for pid in started:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            deadline = float("inf")
        if started:
            time.sleep(0.02)


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
