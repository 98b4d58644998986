"""Platform senders implementing `bot.delivery.types.Sender`."""
