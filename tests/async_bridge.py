"""Run one behaviour test against the sync and the async version of a snippet.

An event loop runs in a thread of its own for the whole test; `Blocking` wraps an object
whose methods are coroutines so that a test calls them as plain functions. Calls from many
threads of the test are interleaved on that one loop, so a test that races threads races
coroutines on the async side. Called from inside the loop (for example by a hook a test
installed in the store), a method returns its coroutine for the caller to await.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Callable, Coroutine
from typing import Any

CALL_TIMEOUT = 60.0  # seconds; a call that takes longer is a hang, reported as one


class LoopThread:
    """An asyncio event loop running in a daemon thread until `close`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def on_loop(self) -> bool:
        return threading.get_ident() == self._thread.ident

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coroutine`` on the loop and return its result (or raise its error)."""
        if self.on_loop():
            raise RuntimeError("LoopThread.run called from the loop itself: await instead")
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(CALL_TIMEOUT)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(CALL_TIMEOUT)
        self.loop.close()


class Blocking:
    """``target``'s coroutine methods as blocking calls; every other attribute as is.

    Setting an attribute sets it on ``target``, so a test can replace a script of the
    async store exactly as it does on the sync one.
    """

    def __init__(self, target: Any, loop: LoopThread) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_loop", loop)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        @functools.wraps(attribute)
        def call(*args: Any, **kwargs: Any) -> Any:
            coroutine = attribute(*args, **kwargs)
            return coroutine if self._loop.on_loop() else self._loop.run(coroutine)

        return call

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target, name, value)


async def settle(value: Any) -> Any:
    """Await ``value`` if it is awaitable: hooks get the same result on both sides."""
    return await value if inspect.isawaitable(value) else value


def either(
    api: str, sync: Callable[..., Any], asynchronous: Callable[..., Any], loop: LoopThread
) -> Callable[..., Any]:
    """``sync`` itself, or ``asynchronous`` run to completion on ``loop``: one callable
    that a test uses the same way for both versions of a snippet function."""
    if api == "sync":
        return sync

    @functools.wraps(asynchronous)
    def call(*args: Any, **kwargs: Any) -> Any:
        return loop.run(asynchronous(*args, **kwargs))

    return call


def run_alone(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run`` in a thread of its own: the main thread may already run a loop
    (Playwright's sync API does), where ``asyncio.run`` refuses to start."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(CALL_TIMEOUT)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
