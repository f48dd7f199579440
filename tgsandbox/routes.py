"""HTTP side of the sandbox: parse a Bot API request, run it through validation, faults and
rate limits, then the method handler; answer JSON like api.telegram.org."""

from __future__ import annotations

import asyncio
import functools
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tgsandbox.calls import HANDLERS, ApiError, Call
from tgsandbox.faults import FaultRule
from tgsandbox.methods import returns_message, send_other
from tgsandbox.spec import load_spec
from tgsandbox.validator import UploadedFile, decode_params, validate_request

if TYPE_CHECKING:
    from tgsandbox.botstate import BotState
    from tgsandbox.server import SandboxServer

TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")
MAX_UPLOAD = 60 * 1024 * 1024  # Telegram takes files up to 50 MB


@dataclass
class RecordedRequest:
    """One API request as the sandbox saw it."""

    token: str
    method: str
    params: dict[str, Any]
    status: int = 200  # HTTP status of the answer
    description: str | None = None  # error description, if any


def build_app(server: SandboxServer) -> web.Application:
    """The aiohttp application serving /bot<token>/<method> and /file/bot<token>/<path>."""
    app = web.Application(client_max_size=MAX_UPLOAD)
    app.router.add_route("*", "/bot{token}/{method}", functools.partial(api_endpoint, server))
    app.router.add_get("/file/bot{token}/{path:.+}", functools.partial(file_endpoint, server))
    return app


async def api_endpoint(server: SandboxServer, request: web.Request) -> web.Response:
    """One Bot API call."""
    token, method = request.match_info["token"], request.match_info["method"]
    if not TOKEN.match(token):
        server.add_violation(f"{method}: malformed bot token in the URL")
        return web.json_response(ApiError(404, "Not Found").payload(), status=404)
    bot = server.bot(token)
    record = RecordedRequest(token, method, {})
    server.requests.append(record)
    server.stats.calls[method] += 1
    try:
        form, files = await read_params(request)
        record.params = params = decode_params(method, form, files)
        server.changed.notify()  # tests may wait for a request to arrive (e.g. a long poll)
        result = await run_call(server, bot, method, params, files)
    except ApiError as exc:
        record.status, record.description = exc.status, exc.description
        server.stats.errors[exc.status] += 1
        server.changed.notify()
        return web.json_response(exc.payload(), status=exc.status)
    server.changed.notify()
    return web.json_response({"ok": True, "result": result})


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Query string plus body: JSON, url-encoded form or multipart (with file parts)."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.method != "POST" or not request.body_exists:
        return params, files
    ctype = request.content_type
    if ctype == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: the JSON body must be an object")
        params.update(body)
    elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                files[name] = UploadedFile(name, value.filename, value.content_type, data)
            else:
                params[name] = value
    else:
        raise ApiError(400, f"Bad Request: unsupported Content-Type {ctype}")
    return params, files


async def run_call(
    server: SandboxServer,
    bot: BotState,
    method: str,
    params: dict[str, Any],
    files: dict[str, UploadedFile],
) -> Any:
    """Validation → delay → injected fault → blocked user → rate limit → handler."""
    if method not in load_spec().methods:
        server.add_violation(f"{method}: unknown method")
        raise ApiError(404, "Not Found")
    violations = validate_request(method, params, files)
    if violations:
        for violation in violations:
            server.add_violation(violation)
        raise ApiError(400, "Bad Request: " + "; ".join(violations))
    delay = server.faults.take_delay(method)
    if delay:
        await asyncio.sleep(delay)  # a slow Telegram: the work still happens afterwards
    chat_id = params.get("chat_id")
    rule = server.faults.take_failure(method, chat_id)
    if rule is not None and not rule.executed:
        raise _fault_error(rule)
    if chat_id in bot.blocked:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    counted = chat_id is not None and server.rate_limiter.counted(method)
    if counted and server.rate_limiter.enabled:
        _check_rate(server, bot, chat_id, bool(params.get("allow_paid_broadcast")))
    handler = HANDLERS.get(method) or (send_other if returns_message(method) else _accept)
    result = await handler(Call(server, bot, method, params, files))
    if counted:
        chat = server.world.chat(chat_id)  # type: ignore[arg-type]  # counted ⇒ not None
        server.stats.record_send(chat.id if chat else chat_id)
    if rule is not None:
        raise _fault_error(rule)
    return result


def _fault_error(rule: FaultRule) -> ApiError:
    return ApiError(rule.status, rule.description, rule.retry_after if rule.status == 429 else None)


def _check_rate(server: SandboxServer, bot: BotState, chat_id: Any, paid: bool) -> None:
    chat = server.world.chat(chat_id)
    key = chat.id if chat else chat_id
    is_group = bool(chat and chat.is_group)
    retry_after = server.rate_limiter.check(bot.token, key, is_group, paid)
    if retry_after is not None:
        server.stats.rate_limited += 1
        server.stats.rate_limited_times.append(time.monotonic())
        raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


async def _accept(call: Call) -> bool:
    """Methods the sandbox does not model: valid requests are recorded and answered `true`."""
    return True


async def file_endpoint(server: SandboxServer, request: web.Request) -> web.Response:
    """Download a stored file by the file_path that getFile gave."""
    bot = server.bot(request.match_info["token"])
    path = request.match_info["path"]
    for stored in bot.files.values():
        if stored.file_path == path:
            return web.Response(body=stored.data, content_type=stored.mime_type or None)
    return web.json_response(ApiError(404, "Not Found").payload(), status=404)
