"""Citizen-guidance Zalo OA bot: webhook → Rasa → actions → Zalo."""
