"""The real bot process: SIGTERM while a handler runs ends it cleanly (exit 0, within 10 s,
the answer stored and the handler finished), and webhook mode with our own web server."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
from sqlalchemy import select

from bot.app.web import SECRET_HEADER
from bot.schedule.on_demand import push
from storage.models import Answer
from tests.processes import SIGINT, SIGKILL, SIGTERM, World, eventually, free_port
from tgsandbox import DEFAULT_TOKEN, SentMessage


def is_question(message: SentMessage) -> bool:
    text = message.text or ""
    return "Vraag " in text and " van " in text


def assert_clean_log(log: str, *private: str) -> None:
    """No token, no message contents (the bot logs at INFO), one event per line."""
    assert DEFAULT_TOKEN not in log and DEFAULT_TOKEN.split(":", 1)[1] not in log
    for text in private:
        assert text not in log
    assert "Traceback" not in log


async def ratings(world: World) -> list[int | None]:
    async with world.db.transaction() as s:
        return list(await s.scalars(select(Answer.rating).where(Answer.rating.is_not(None))))


async def test_sigterm_while_a_handler_runs_finishes_it_and_exits_0(world: World) -> None:
    api = world.api
    cohort_id = await world.cohort()
    [user] = await world.students(cohort_id, 1)
    bot = await world.start_bot()
    await push(world.db, "PW3A", "reflection", 1, now=datetime.now(UTC))
    first = await api.wait_for_message(user, is_question, timeout=20)

    # The handler stores the answer, then answers the callback: make that answer take 3 s.
    api.faults.delay("answerCallbackQuery", 3.0)
    mark = api.mark(user)
    query_id = await api.press(user, first, "4")
    await eventually(lambda: ratings(world), 10, "the answer committed")
    assert query_id not in api.answered_callbacks
    bot.signal(SIGTERM)

    assert await bot.exit_code(10) == 0
    assert "Opgeslagen" in (api.answered_callbacks[query_id].text or "")
    assert any(is_question(m) for m in api.messages(user)[mark:]), "next question not sent"
    assert await ratings(world) == [4]
    log = bot.log()
    assert "received SIGTERM" in log and "mentorbot stopped" in log
    assert "shutdown took longer" not in log
    assert_clean_log(log)


async def test_webhook_mode_process(world: World) -> None:
    api = world.api
    port, secret = free_port(), "Webhook_S3cret-42"
    url = f"http://127.0.0.1:{port}/telegram"
    bot = await world.start_bot(
        "--webhook-url", url, "--port", str(port), "--secret", secret, "--listen", "127.0.0.1"
    )
    hook = api.bot()
    assert hook.webhook.url == url and hook.webhook.secret_token == secret
    hook.webhook_targets = [url]  # as a load balancer in front of the instance would

    user = api.add_user("Sanne")
    await api.send_text(user, "/start")
    assert (await api.wait_for_message(user, timeout=15)).text
    assert any(a.url == url and a.status == 200 for a in hook.webhook_log)
    assert not any(r.method == "getUpdates" for r in api.requests)

    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "not-the-secret"}):
            async with http.post(base + "/telegram", json={"update_id": 1}, headers=headers) as r:
                assert r.status == 403
        async with http.get(base + "/healthz") as r:
            assert r.status == 200 and await r.text() == "ok"
        async with http.get(base + "/metrics") as r:
            body = await r.text()
    handled = [line for line in body.splitlines() if line.startswith("updates_handled_total ")]
    assert handled and float(handled[0].split()[1]) >= 1

    bot.signal(SIGTERM)
    assert await bot.exit_code(10) == 0
    log = bot.log()
    assert "mode=webhook" in log and "webhook request rejected" in log
    assert secret not in log
    assert_clean_log(log)


async def test_webhook_instances_behind_a_load_balancer_survive_a_kill(world: World) -> None:
    """Two instances on one database; one is killed; updates go on through the other."""
    api = world.api
    ports, secret = [free_port(), free_port()], "Shared_secret_1"
    urls = [f"http://127.0.0.1:{p}/telegram" for p in ports]
    world.extra_env["MENTORBOT_WEBHOOK_SECRET"] = secret  # not on the command line
    bots = [
        await world.start_bot("--webhook-url", url, "--port", str(p), "--listen", "127.0.0.1")
        for url, p in zip(urls, ports, strict=True)
    ]
    assert api.bot().webhook.secret_token == secret
    api.bot().webhook_targets = urls
    users = [api.add_user(f"U{i}") for i in range(4)]
    for user in users:
        await api.send_text(user, "/help")
        await api.wait_for_message(user, timeout=15)
    assert {a.url for a in api.bot().webhook_log if a.status == 200} == set(urls)

    bots[0].signal(SIGKILL)
    assert await bots[0].exit_code(5) == -SIGKILL
    for user in users:
        await api.send_text(user, "/help")
        await api.wait_for_message(user, timeout=15)
    bots[1].signal(SIGTERM)
    assert await bots[1].exit_code(10) == 0


async def test_polling_mode_serves_health_and_metrics_on_the_health_port(world: World) -> None:
    port = free_port()
    world.extra_env.update(MENTORBOT_HEALTH_PORT=str(port), MENTORBOT_HEALTH_LISTEN="127.0.0.1")
    bot = await world.start_bot()
    user = world.api.add_user("Bram")
    await world.api.send_text(user, "/help")
    await world.api.wait_for_message(user, timeout=15)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/healthz") as r:
            assert r.status == 200
        async with http.get(base + "/metrics") as r:
            body = await r.text()
        async with http.post(base + "/telegram", json={"update_id": 1}) as r:
            assert r.status in (404, 405)  # no webhook route when polling
    assert "\nupdates_handled_total 1.0" in body
    bot.signal(SIGINT)
    assert await bot.exit_code(10) == 0
    assert "received SIGINT" in bot.log()
