"""The graceful stop of a server process's front end (:mod:`.front`), as nginx's ``quit``.

Stop accepting (the connections already in the listen queue are taken first); answer every
request in hand; close each connection once it is idle, shutting its sending side and lingering
so a request crossing the close meets a clean end of stream; cut off what is still open at the
deadline.
"""

from __future__ import annotations

import time

from waitress import wasyncore

__all__ = ["STOP_TICK_S", "stop"]

#: How often the stopping process checks its connections, in seconds.
STOP_TICK_S = 0.1


def stop(servers: list, socket_map: dict, deadline: float, *, tick_s: float) -> None:
    """Stop accepting, answer what is in hand, close every connection; cut off what is left at ``deadline``."""
    for server in servers:
        server.stopping = True
    for server in servers:
        server.stop_accepting()
    next_tick = 0.0
    while True:
        now = time.monotonic()
        if now >= next_tick:  # the deadlines of requests still arriving (the servers' own poll no longer runs)
            next_tick = now + tick_s
            for server in servers:
                server.maintenance(time.time())
        if not _close_idle(servers, now) or now >= deadline:
            break
        wasyncore.loop(timeout=STOP_TICK_S, map=socket_map, use_poll=True, count=1)
    for server in servers:  # the grace period is over
        for channel in list(server.active_channels.values()):
            channel.close_now()


def _close_idle(servers: list, now: float) -> bool:
    """Close the connections with nothing in hand, end the lingering ones that are due; is any left?"""
    left = False
    for server in servers:
        for channel in list(server.active_channels.values()):
            if channel.lingering_until is not None:
                if now >= channel.lingering_until:
                    channel.close_now()
                    continue
            elif channel.idle():
                channel.handle_close()  # lingers
            left = True
    return left
