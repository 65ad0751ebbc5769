"""A local server's CPU and memory, found by the TCP port it listens on (Linux /proc; psutil is not installed)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
LISTEN = "0A"  # the TCP state code for LISTEN in /proc/net/tcp
TICKS = os.sysconf("SC_CLK_TCK")


def listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def pids_listening_on(port: int) -> list[int]:
    """The processes holding the listening socket: a server and its workers (Sanic's SANIC_WORKERS share
    it), or none when they are not ours to see (another user, a container)."""
    wanted = {f"socket:[{inode}]" for inode in listening_inodes(port)}
    if not wanted:
        return []
    found = []
    for proc in PROC.iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in wanted for fd in (proc / "fd").iterdir()):
                found.append(int(proc.name))
        except OSError:  # not our process, or it just ended
            continue
    return sorted(found)


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time the processes have used so far."""
    total = 0
    for pid in pids:
        stat = (PROC / str(pid) / "stat").read_text()
        fields = stat[stat.rfind(")") + 2:].split()  # the command name in parentheses may hold spaces
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def rss_mb(pids: list[int]) -> float:
    """The processes' resident memory together (a worker's pages shared with its parent counted in each)."""
    total = 0
    for pid in pids:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


@dataclass(frozen=True)
class MachineTimes:
    busy: int
    total: int


def machine_times() -> MachineTimes:
    """All cores' busy and total time since boot, to say how loaded the machine was (it may be shared)."""
    # user nice system idle iowait irq softirq steal (guest time is already counted in user)
    values = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]  # idle and iowait
    return MachineTimes(busy=sum(values) - idle, total=sum(values))


def machine_busy_percent(start: MachineTimes, end: MachineTimes) -> float:
    return 100 * (end.busy - start.busy) / max(1, end.total - start.total)
