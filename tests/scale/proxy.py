"""A round-robin HTTP proxy in front of replicas, as the load balancer in the scaled deployment.

REST messages (POST /webhooks/rest/webhook) of one conversation go to the replicas in turn,
whatever the other conversations do, so each conversation's messages alternate between them;
any other request goes to the next replica in one shared rotation. A replica that refuses the
connection, or closes or resets it without an answer (stopped, killed, dying), is skipped for the
next, as deploy/haproxy.cfg's `retry-on conn-failure empty-response` does (a new connection per request:
never a dead kept-alive one); any other failure costs that request a 502. Which replica served
each request is recorded for the tests.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

REST_PATH = "/webhooks/rest/webhook"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}


@dataclass
class Served:
    sender: str | None
    backend: int
    path: str
    status: int


@dataclass
class RoundRobinProxy:
    backends: list[str]
    port: int = 0
    served: list[Served] = field(default_factory=list)
    _rotation: Iterator[int] = field(init=False)
    _next_for: dict[str, int] = field(default_factory=dict)
    _session: aiohttp.ClientSession | None = None

    def __post_init__(self) -> None:
        self._rotation = itertools.cycle(range(len(self.backends)))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def backends_for(self, sender: str) -> list[int]:
        return [s.backend for s in self.served if s.sender == sender and s.path == REST_PATH]

    def _first_choice(self, sender: str | None) -> int:
        if sender is None:
            return next(self._rotation)
        choice = self._next_for.get(sender, next(self._rotation))
        self._next_for[sender] = (choice + 1) % len(self.backends)
        return choice

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        sender = None
        if request.path == REST_PATH:
            with suppress(ValueError, AttributeError):
                sender = str(json.loads(body).get("sender"))
        first = self._first_choice(sender)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        assert self._session is not None
        for attempt in range(len(self.backends)):
            backend = (first + attempt) % len(self.backends)
            try:
                async with self._session.request(request.method, self.backends[backend] + request.path_qs,
                                                 data=body or None, headers=headers) as reply:
                    payload = await reply.read()
            except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError):
                # refused, or closed or reset unanswered (as haproxy.cfg retries): the next one may take it.
                # A killed server's socket can accept a connection while its process is torn down.
                continue
            except (aiohttp.ClientError, asyncio.TimeoutError):
                self.served.append(Served(sender, backend, request.path, 502))
                return web.Response(status=502, text="bad gateway")
            self.served.append(Served(sender, backend, request.path, reply.status))
            return web.Response(status=reply.status, body=payload, headers={
                k: v for k, v in reply.headers.items() if k.lower() not in HOP_BY_HOP})
        return web.Response(status=503, text="no replica answers")

    async def _start(self, started: threading.Event, stop: asyncio.Event) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120),
                                              connector=aiohttp.TCPConnector(limit=0, force_close=True))
        app = web.Application(client_max_size=2**20)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        started.set()
        await stop.wait()
        await runner.cleanup()
        await self._session.close()


@contextmanager
def round_robin(backends: list[str]) -> Iterator[RoundRobinProxy]:
    """The proxy on a free loopback port, in a thread of its own, until the block ends."""
    proxy = RoundRobinProxy([b.rstrip("/") for b in backends])
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(proxy._start(started, stop),), daemon=True)
    thread.start()
    if not started.wait(30):
        raise RuntimeError("the proxy did not start")
    try:
        yield proxy
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
