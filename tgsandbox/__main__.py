"""`python -m tgsandbox --port 8081`: run the sandbox on its own and print its base URL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from tgsandbox.server import DEFAULT_TOKEN, SandboxServer


async def _serve(host: str, port: int, token: str) -> None:
    async with SandboxServer(host=host, port=port, token=token) as api:
        print(api.base_url, flush=True)
        print(f"token: {api.token}", flush=True)
        print(
            f"bot base_url: {api.base_url}/bot  base_file_url: {api.base_url}/file/bot", flush=True
        )
        await asyncio.Event().wait()  # until Ctrl-C


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m tgsandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the default bot's token")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.token))


if __name__ == "__main__":
    main()
