"""Runs the servers side by side and restarts any that stops, until told to stop.

    python -m bot.supervise "NAME: COMMAND" ...     (scripts/serve lists the servers)

Each COMMAND runs under /bin/sh -c in a process group of its own, so whatever a server started
goes with it. A server that exits is restarted, the others untouched, after a pause that doubles
from 1 s up to 30 s while it keeps failing within a minute of starting. A server that has never
run for a minute and fails --max-failures times in a row cannot start (a mistake in its
configuration, a port in use): everything is stopped and the exit status is 1, for whoever
started the service to see. One that has run properly is restarted for as long as it takes.
SIGINT or SIGTERM stop every server (SIGTERM, then SIGKILL after 20 s; a second signal kills at
once) and the exit status is 0. The servers die with the supervisor even if it is killed. Only
names, process ids and exit codes are logged.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType

FIRST_DELAY = 1.0  # seconds before the first restart; doubles on each quick failure
MAX_DELAY = 30.0
STABLE_AFTER = 60.0  # a server that ran this long had started properly
STOP_GRACE = 20.0  # Sanic finishes the requests in progress on SIGTERM
POLL = 0.2
PR_SET_PDEATHSIG = 1

try:
    _libc: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
except OSError:
    _libc = None


def log(message: str) -> None:
    print(f"serve: {message}", file=sys.stderr, flush=True)


@dataclass
class Program:
    name: str
    command: str
    process: subprocess.Popen | None = None
    started: float = 0.0
    quick_failures: int = 0  # in a row, each within `stable_after` of starting
    has_run: bool = False  # it once ran for `stable_after`: its failures are faults, not a broken setup
    restart_at: float = 0.0


def parse_program(spec: str) -> Program:
    name, separator, command = spec.partition(":")
    if not separator or not name.strip() or not command.strip():
        raise argparse.ArgumentTypeError(f"expected 'NAME: COMMAND', got {spec!r}")
    return Program(name.strip(), command.strip())


def describe(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _die_with_supervisor(supervisor_pid: int) -> None:
    """In the child before exec: SIGTERM when the supervisor dies (Linux), even by SIGKILL."""
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor_pid:  # it died before the line above
        os._exit(1)


class Supervisor:
    def __init__(self, programs: Sequence[Program], max_failures: int = 5, stable_after: float = STABLE_AFTER) -> None:
        self.programs = list(programs)
        self.max_failures, self.stable_after = max_failures, stable_after
        self.stop_requested = False
        self.kill_now = False
        self.gave_up = False

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        for program in self.programs:
            self._start(program)
        while not self.stop_requested:
            self._reap()
            now = time.monotonic()
            for program in self.programs:
                if program.process is None and not self.stop_requested and now >= program.restart_at:
                    self._start(program)
            time.sleep(POLL)
        self._stop_all()
        return 1 if self.gave_up else 0

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stop_requested:
            self.kill_now = True
        self.stop_requested = True

    def _start(self, program: Program) -> None:
        supervisor_pid = os.getpid()
        program.process = subprocess.Popen(
            ["/bin/sh", "-c", program.command], stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=lambda: _die_with_supervisor(supervisor_pid))
        program.started = time.monotonic()
        log(f"started {program.name} (pid {program.process.pid})")

    def _reap(self) -> None:
        """Collect every child that ended (os.waitpid: as PID 1 in a container, orphans too)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for program in self.programs:
                if program.process is not None and program.process.pid == pid:
                    program.process.returncode = os.waitstatus_to_exitcode(status)
                    self._ended(program)

    def _ended(self, program: Program) -> None:
        assert program.process is not None
        code, pid = program.process.returncode, program.process.pid
        program.process = None
        _signal_group(pid, signal.SIGKILL)  # what the server left behind (e.g. Sanic's workers)
        if self.stop_requested:
            return
        ran = time.monotonic() - program.started
        if ran >= self.stable_after:
            program.has_run, program.quick_failures = True, 1
        else:
            program.quick_failures += 1
        if not program.has_run and program.quick_failures >= self.max_failures:
            log(f"{program.name} {describe(code)}; it failed {program.quick_failures} times in a row without "
                "ever starting properly: stopping everything")
            self.gave_up = self.stop_requested = True
            return
        delay = min(MAX_DELAY, FIRST_DELAY * 2 ** (program.quick_failures - 1))
        program.restart_at = time.monotonic() + delay
        log(f"{program.name} {describe(code)} after {ran:.0f} s; restarting in {delay:g} s")

    def _stop_all(self) -> None:
        for program in self.programs:
            if program.process is not None:
                log(f"stopping {program.name}")
                _signal_group(program.process.pid, signal.SIGTERM)
        deadline, killed = time.monotonic() + STOP_GRACE, False
        while any(p.process is not None for p in self.programs):
            if not killed and (self.kill_now or time.monotonic() > deadline):
                for program in self.programs:
                    if program.process is not None:
                        log(f"{program.name} did not stop: killing it")
                        _signal_group(program.process.pid, signal.SIGKILL)
                deadline, killed = time.monotonic() + 5, True
            elif killed and time.monotonic() > deadline:
                return  # unkillable (stuck in the kernel): nothing more a supervisor can do
            self._reap()
            time.sleep(POLL)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(pgid, signum)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.supervise", description=__doc__.split("\n\n")[0])
    parser.add_argument("programs", nargs="+", type=parse_program, metavar="NAME: COMMAND")
    parser.add_argument("--max-failures", type=int, default=5,
                        help="failures in a row of a server that never started properly before giving up (default 5)")
    parser.add_argument("--stable-after", type=float, default=STABLE_AFTER,
                        help=f"seconds a server must run to count as started properly (default {STABLE_AFTER:g})")
    args = parser.parse_args(argv)
    return Supervisor(args.programs, args.max_failures, args.stable_after).run()


if __name__ == "__main__":
    sys.exit(main())
