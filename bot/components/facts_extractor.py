"""FactsEntityExtractor: the Rasa face of the one fact extractor (`extraction`).

It emits the extractor's entities (snapped to whole jieba tokens, one entity per token span) and adds
`facts`, `measures` and `urgent_reason` to the parse result, so `/model/parse` gives the same Facts
the action server and the copilot compute. It learns nothing: the rules live in `extraction/`.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

import bot.components.spacy_zh  # noqa: F401  registers the jieba user-dictionary callback for SpacyNLP


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class FactsEntityExtractor(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Add the extractor's Facts to the parse result (the copilot reads them from /model/parse).
        return {"add_facts_to_output": True}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "FactsEntityExtractor":
        # The Rasa server creates its components at start-up: the moment to install the project's
        # one-validator action-response check (bot/components/fast_validation.py, issue 13).
        from bot.components.fast_validation import install

        install()
        return cls(config)

    @staticmethod
    def required_packages() -> List[Text]:
        return []

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # training examples keep their own annotations

    def process(self, messages: List[Message]) -> List[Message]:
        import extraction

        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            result = extraction.extract(text)
            entities = self._aligned(result.entities, message.get(TOKENS_NAMES[TEXT]) or [], text)
            entities = self.add_extractor_name(entities)
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
            if self._config.get("add_facts_to_output", True):
                message.set("facts", result.facts, add_to_output=True)
                message.set("measures", result.measures, add_to_output=True)
                message.set("urgent_reason", result.urgent_reason, add_to_output=True)
        return messages

    @staticmethod
    def _aligned(entities: List[Dict[Text, Any]], tokens: List[Any], text: Text) -> List[Dict[Text, Any]]:
        """Widen each span to whole tokens; keep the first entity where two would share a token."""
        out: List[Dict[Text, Any]] = []
        taken_until = -1
        for ent in sorted(entities, key=lambda e: (e["start"], -(e["end"] - e["start"]))):
            start, end = ent["start"], ent["end"]
            for token in tokens:
                if token.start <= start < token.end:
                    start = token.start
                if token.start < end <= token.end:
                    end = token.end
            if start < taken_until:
                continue
            taken_until = end
            out.append({"entity": ent["entity"], "value": ent["value"], "start": start, "end": end,
                        "confidence_entity": 1.0})
        return out
