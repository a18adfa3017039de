"""A heartbeat file in DATA_DIR, written while the bot serves, and the check `python -m bot health` makes.

Docker's HEALTHCHECK runs in a separate process; in polling mode there is no port to
ask, so the running bot touches `DATA_DIR/heartbeat` every few seconds and the check
looks at its age. The file holds a time only.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

logger = logging.getLogger(__name__)

HEARTBEAT_FILE = "heartbeat"
EVERY = 15.0
"""Seconds between beats."""
MAX_AGE = 60.0
"""A heartbeat older than this means the bot is not serving."""


async def beat(data_dir: Path, every: float = EVERY) -> None:
    """Touch the heartbeat file every `every` seconds until cancelled; a failed write is logged once."""
    import asyncio  # here: `ask` and `health` import this module and need no event loop

    path = data_dir / HEARTBEAT_FILE
    warned = False
    while True:
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{time.time():.0f}\n", encoding="ascii")
            warned = False
        except OSError as exc:
            if not warned:
                logger.warning(
                    "cannot write the heartbeat %s (%s): health checks will fail", path, exc.strerror
                )
                warned = True
        await asyncio.sleep(every)


def check(data_dir: Path, max_age: float = MAX_AGE, now: float | None = None) -> tuple[bool, str]:
    """Return whether the bot's heartbeat is fresh, and a line saying so."""
    path = data_dir / HEARTBEAT_FILE
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except OSError:
        return False, f"unhealthy: no heartbeat at {path} (is the bot running with this DATA_DIR?)"
    if age > max_age:
        return False, f"unhealthy: the last heartbeat is {age:.0f} s old (over {max_age:.0f} s)"
    return True, f"healthy: heartbeat {age:.0f} s ago"
