"""A Rasa tokenizer for Vietnamese typed with or without diacritics.

Each token's `text` is the accented word spelled as meant (bot.nlu.text.spelled_words) with
teencode expanded, and its `lemma` the folded one; featurizers choose with `use_lemma`, so
the pipeline sees both views.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.question import focus_spans
from bot.nlu.text import expand, fold, spelled_words


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            "teencode": True,
            # featurize only a long message's questions (bot.nlu.question), not its greeting;
            # a short one's greeting is part of what it says ("xin chào, có ai trực không")
            "focus_questions": False,
            "focus_min_words": 10,
        }

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute) or ""
        tokens: list[Token] = []
        spelled = spelled_words(text)
        focused = (
            self._config["focus_questions"] and len(spelled) >= self._config["focus_min_words"]
        )
        spans = focus_spans(text) if focused else None
        for word, start, end in spelled:
            if spans and not any(s <= start < e for s, e in spans):
                continue
            parts = expand(word) if self._config["teencode"] else [word]
            tokens.extend(Token(part, start, end, lemma=fold(part)) for part in parts)
        if not tokens:
            # Emoji or punctuation only ("👍", "??"): keep them as tokens, or the message
            # would have no features at all.
            tokens = [Token(chunk, text.index(chunk), lemma=chunk) for chunk in text.split()[:8]]
        if not tokens:
            tokens = [Token("_", 0, len(text), lemma="_")]
        return self._apply_token_pattern(tokens)
