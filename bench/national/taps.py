"""The taps of `bench.national`, each timed by stage: when it came (seconds after the round's
start), when the sandbox's webhook POST was answered (the update stored by an instance), when
the reply reached the sandbox; and how late the driver's own event loop ran meanwhile."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench._common import percentile
from bench.ingest import ANSWERS, is_question
from bench.tap_latency import THINK, answer_one


async def timed_tap(
    api: Any, user: Any, first: Any, zero: float, posts: dict[int, list[tuple[float, float]]]
) -> list[dict[str, float]]:
    """bench.tap_latency's tap, each sample with when it was (seconds after `zero`) and when
    the reply reached the sandbox: the rest is the sandbox's own event loop (the driver)."""
    samples: list[dict[str, float]] = []
    message = first
    while is_question(message) and len(samples) < ANSWERS:
        await asyncio.sleep(THINK)  # reading time, not a measurement
        started = time.monotonic()
        message = await answer_one(api, user, message, len(samples))
        arrived = [t for t in api.stats.send_times.get(user.id, []) if t >= started]
        post = next((p for p in posts.get(user.id, []) if p[0] >= started), (-1.0, -1.0))
        samples.append(
            {
                "at_s": round(started - zero, 2),
                "s": round(time.monotonic() - started, 3),
                "to_sandbox_s": round(arrived[0] - started, 3) if arrived else -1.0,
                # the webhook POST: sent after, answered after (seconds from the tap)
                "post_s": round(post[0] - started, 3),
                "stored_s": round(post[1] - started, 3),
            }
        )
    return samples


def stamp_webhooks(api: Any) -> dict[int, list[tuple[float, float]]]:
    """(POST started, instance answered) of each update the sandbox delivered, per user: a
    tap's time split into the sandbox's queue, the instance storing it, and the rest (inbox
    claim, handler, reply). Wraps the sandbox's POST (a driver's probe, not a test double)."""
    posts: dict[int, list[tuple[float, float]]] = {}
    post = api.webhooks._post

    async def stamped(bot: Any, url: str, update: dict[str, Any]) -> Any:
        started = time.monotonic()
        answer = await post(bot, url, update)
        sender = (update.get("callback_query") or update.get("message") or {}).get("from", {})
        posts.setdefault(sender.get("id", 0), []).append((started, time.monotonic()))
        return answer

    api.webhooks._post = stamped
    return posts


async def loop_lag(stop: asyncio.Event, lags: list[float]) -> None:
    """How late the driver's (and sandbox's) event loop wakes from a 50 ms sleep."""
    while not stop.is_set():
        before = time.monotonic()
        await asyncio.sleep(0.05)
        lags.append(time.monotonic() - before - 0.05)


async def taps(
    api: Any, tappers: list[Any], firsts: list[Any], posts: dict[int, list[tuple[float, float]]],
    queued: asyncio.Event | None = None, zero: float | None = None,
) -> list[dict[str, float]]:  # fmt: skip
    """The tappers answer their reflection (bench.tap_latency); with `queued`, once the round
    is queued (and going out). Not while it is being queued: that runs in this process, beside
    the sandbox, and its event loop would then delay the taps' updates and answers by seconds."""
    if queued is not None:
        await queued.wait()
    zero = time.monotonic() if zero is None else zero
    runs = await asyncio.gather(
        *(timed_tap(api, u, f, zero, posts) for u, f in zip(tappers, firsts, strict=True))
    )
    return [s for samples in runs for s in samples]


def tap_figures(taps: list[dict[str, float]], prefix: str) -> dict[str, Any]:
    if not taps:
        return {}
    samples = [t["s"] for t in taps]
    slow = sorted(taps, key=lambda t: -t["s"])[: max(1, len(taps) // 10)]
    return {
        f"{prefix}taps": len(samples),
        f"{prefix}tap_p50_s": round(percentile(samples, 50), 3),
        f"{prefix}tap_p95_s": round(percentile(samples, 95), 3),
        # the slowest tenth: when (after the round's start), and how much of it was the bot's
        f"{prefix}slow_taps": sorted(slow, key=lambda t: t["at_s"]),
    }
