"""What a running bot holds and shares: the settings (`config`), the typed handler context
(`context`), the long-lived `Services` built in `post_init` (database, scheduler, sender,
alert evaluation), logging and its update context (`logs`), the per-user flood limit, per-user
update order (`updates`), the process clock (`now`) and the command menus (`commands`).
May use every feature package below it; never `handlers` or `bot.app`."""
