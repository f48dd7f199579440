"""Everything the bot sends that is not a direct reply: queueing rendered messages as outbox
rows (`queue`), finding the mentor team's chats (`team`), turning a row into its Telegram
request (`requests`), pacing under Telegram's limits (`pacing`) and the `OutboxSender` that
claims, sends and records rows (`sender`). May use `metrics` and storage only."""
