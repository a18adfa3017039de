"""The Telegram bot on aiogram 3: adapters from updates to the answering service."""
