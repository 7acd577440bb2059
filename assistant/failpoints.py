"""Named crash points for the fault-injection tests.

`ASSISTANT_FAILPOINTS="embed:3"` makes the process kill itself with SIGKILL the 3rd
time it reaches `failpoint("embed")` — the same as `kill -9` at that exact moment.
Unset (always, outside tests) this costs one dict lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "ASSISTANT_FAILPOINTS"
_hits: dict[str, int] = {}


def failpoint(name: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    for item in spec.split(","):
        point, _, nth = item.partition(":")
        if point == name:
            _hits[name] = _hits.get(name, 0) + 1
            if _hits[name] >= int(nth or 1):
                os.kill(os.getpid(), signal.SIGKILL)
