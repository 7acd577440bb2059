"""Named crash points for the fault-injection tests.

`ASSISTANT_FAILPOINTS="embed:3"` makes the process kill itself with SIGKILL the 3rd
time it reaches `failpoint("embed")` — the same as `kill -9` at that exact moment.
Unset (always, outside tests) this costs one dict lookup. Hits are counted per process; in an
ingest's parser process (assistant.parse_pool) a failpoint kills the ingest process as well,
so the whole ingest stops at that moment, as a `kill -9` of it would.
"""

from __future__ import annotations

import os
import signal

ENV = "ASSISTANT_FAILPOINTS"
_hits: dict[str, int] = {}
_also_kill: list[int] = []


def kill_with(pid: int) -> None:
    """In a helper process: a failpoint that fires here kills process `pid` (the one it works for) first."""
    _also_kill.append(pid)


def failpoint(name: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    for item in spec.split(","):
        point, _, nth = item.partition(":")
        if point == name:
            _hits[name] = _hits.get(name, 0) + 1
            if _hits[name] >= int(nth or 1):
                for pid in _also_kill:
                    os.kill(pid, signal.SIGKILL)
                os.kill(os.getpid(), signal.SIGKILL)
