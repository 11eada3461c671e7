"""The thread and event loop where citizens' events are processed and Zalo is called.

Rasa runs long synchronous stretches (NLU graph, tracker store) on whatever loop calls it.
Kept off the webhook's loop, they cannot delay an acknowledgement by more than the
interpreter's thread switch interval, and Zalo always gets its answer in time. The process's
only Zalo client lives on this loop too (bot/zalo/sender.py).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class ProcessingLoop:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="processing", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def is_current(self) -> bool:
        """Whether the caller runs on this loop (then it needs no hop)."""
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        """Schedule `callback(*args)` on this loop, from any thread."""
        self._loop.call_soon_threadsafe(callback, *args)

    async def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on this loop from any other loop, and wait for its result."""
        if not self.running:
            coroutine.close()
            raise RuntimeError("the processing loop is not running")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return await asyncio.wrap_future(future)

    async def stop(self) -> None:
        """Stop the loop and wait for its thread to end."""
        if not self.running:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
