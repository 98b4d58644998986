"""Telegram: the Bot API adapter (commands, buttons, polling or webhook), its delivery
sender and the aiohttp transport both use."""
