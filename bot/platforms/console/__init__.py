"""The terminal: a chat on stdin/stdout serving the bot's commands, and its sender."""
