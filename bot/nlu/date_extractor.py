"""Rasa component: adds `time` entities (ISO datetimes, Asia/Ho_Chi_Minh) for Vietnamese dates."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.dates import parse_datetimes

ENTITY = "time"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class VietnameseDateExtractor(GraphComponent, EntityExtractorMixin):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseDateExtractor:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            found = parse_datetimes(message.get(TEXT) or "")
            entities = [
                {
                    "entity": ENTITY,
                    "start": f.start,
                    "end": f.end,
                    "value": f.text_value,
                    "confidence": 1.0,
                    "additional_info": {"grain": "hour" if f.has_time else "day"},
                }
                for f in found
            ]
            message.set(
                ENTITIES,
                message.get(ENTITIES, []) + self.add_extractor_name(entities),
                add_to_output=True,
            )
        return messages
