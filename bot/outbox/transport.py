"""The bot's HTTP client: python-telegram-bot's requests over aiohttp instead of httpx.

Measured against the sandbox (docs/benchmarks.md §6, paid4): a `send_message` cost the client
1.6-1.9 ms of CPU through PTB's default `HTTPXRequest`, 0.5-0.6 ms through this class, 0.2 ms
with the outbox's raw request (`bot.outbox.requests`) on top. httpx/httpcore spend most of it in
Python per request (the pool looks at every idle connection with a syscall); aiohttp's client
parses in C. At a paid broadcast's 1,000 messages a second that is the difference between a
core and a fifth of one.

The parameters go as one JSON body (multipart with files, as PTB's); the timeouts' defaults
are PTB's; PTB's `BaseRequest` turns status codes into its errors as before. Errors of
the client itself become `NetworkError("aiohttp.<name>: …")` and timeouts `TimedOut`, named as
`bot.outbox.pacing.classify` needs them to tell a request that cannot have reached Telegram
(no connection was had) from one that may have.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

__all__ = ["NOT_SENT_PREFIX", "AiohttpRequest"]

# A TimedOut whose message starts so was raised before the request left (PTB says the same of
# its pool timeouts): `classify` does not count its retry as a possible repeat.
NOT_SENT_PREFIX = "Pool timeout"


def _seconds(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class AiohttpRequest(BaseRequest):
    """A `telegram.request.BaseRequest` over one `aiohttp.ClientSession` (see module doc)."""

    __slots__ = (
        "_connect",
        "_media_write",
        "_pool",
        "_pool_size",
        "_proxied",
        "_read",
        "_session",
        "_write",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxied = False

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                cookie_jar=aiohttp.DummyCookieJar(),  # Telegram sets none; skip the parsing
                # Not trust_env: aiohttp would then look the proxy up in a thread for every
                # request (a third of this client's CPU); `_proxy` honours HTTPS_PROXY and
                # friends as httpx did, read once.
                trust_env=False,
            )
            self._proxied = bool(urllib.request.getproxies())

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See `BaseRequest.do_request`."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        write = _seconds(write_timeout, self._media_write if files else self._write)
        timeout = self._timeout(
            _seconds(read_timeout, self._read),
            write,
            _seconds(connect_timeout, self._connect),
            _seconds(pool_timeout, self._pool),
        )
        headers = {"User-Agent": self.USER_AGENT}
        body: Any = None
        if files and request_data:
            body = _multipart(request_data, files)
        elif request_data:
            # One JSON body: url-encoding every parameter's JSON (PTB's form) was a tenth of a
            # sending instance's CPU.
            body = json.dumps(request_data.parameters)
            headers["Content-Type"] = "application/json"
        proxy, proxy_auth = _proxy(url) if self._proxied else (None, None)
        try:
            async with self._session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                proxy=proxy,
                proxy_auth=proxy_auth,
            ) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as err:  # no connection had: nothing was sent
            raise TimedOut(f"{NOT_SENT_PREFIX}: no connection to the Bot API in time") from err
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err

    @staticmethod
    def _timeout(
        read: float | None, write: float | None, connect: float | None, pool: float | None
    ) -> aiohttp.ClientTimeout:
        # aiohttp has no write timeout and counts waiting for a pooled connection as part of
        # `connect`; the whole request is bounded by the sum, as httpx's phases were.
        phases = (read, write, connect, pool)
        total = None if None in phases else sum(p for p in phases if p is not None)
        wait = None if connect is None or pool is None else connect + pool
        return aiohttp.ClientTimeout(
            total=total, connect=wait, sock_connect=connect, sock_read=read
        )


def _proxy(url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    """The proxy the environment names for this URL, if any (as httpx's trust_env)."""
    try:
        return get_env_proxy_for_url(URL(url))
    except LookupError:
        return None, None


def _multipart(request_data: RequestData, files: dict[str, Any]) -> aiohttp.FormData:
    """The parameters and the files as multipart/form-data, as PTB's httpx client sent them."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
