"""Sending rendered replies through rasa_sdk's dispatcher."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from bot.content.render import Reply


def send(dispatcher: CollectingDispatcher, replies: list[Reply]) -> None:
    for reply in replies:
        dispatcher.utter_message(text=reply.text, buttons=reply.buttons or None)
