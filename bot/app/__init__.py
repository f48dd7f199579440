"""The composition root: builds the python-telegram-bot Application (handlers registered,
`post_init` starts the `Services`, `post_stop`/`post_shutdown` stop them), runs it by long
polling or webhooks (`runner`), serves the webhook, `/healthz` and `/metrics` (`web`), and runs
it inside an existing event loop for the tests and the demo (`embedded`).
The only package of `bot` that imports `handlers`; only `bot.cli` and `bot.demo` import it."""
