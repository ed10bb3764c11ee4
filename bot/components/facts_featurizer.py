"""FactsFeaturizer: the fact extractor's findings as sparse features for the intent classifier.

Which kinds of fact a message states (a county, a status, an emergency, a measure, misconduct of
measure 19, …) says much about what the caller wants; with a few hundred examples DIET cannot learn
every emergency word, but `extraction` already knows them. One column per kind: on the tokens the
fact covers (sequence features) and for the whole message (sentence features). Learns nothing.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text, Type

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

# Kinds of finding; the order fixes the feature columns (append only: trained models depend on it).
KINDS = (
    "county", "city", "residence", "household_size", "employment", "months_without_income",
    "unemployment_insurance", "can_return_to_work", "covid_confirmed", "quarantined_member",
    "medical_out_of_pocket", "severe_disability", "severe_illness", "cannot_self_care", "age",
    "reemployed", "rigid_expenses", "stranded", "urgent", "status", "not_status", "measure",
    "misconduct", "any_fact",
)
_COLUMN = {kind: i for i, kind in enumerate(KINDS)}
MISCONDUCT_MEASURE = "19"  # the measure whose terms (截留, 冒领, 关系保…) name misconduct


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class FactsFeaturizer(SparseFeaturizer, GraphComponent):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**SparseFeaturizer.get_default_config()}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "FactsFeaturizer":
        return cls(config, execution_context.node_name)

    @staticmethod
    def required_packages() -> List[Text]:
        return []

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            if example.get(TEXT):
                self._featurize(example)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(TEXT):
                self._featurize(message)
        return messages

    def _featurize(self, message: Message) -> None:
        import extraction

        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        sequence = np.zeros((len(tokens), len(KINDS)), dtype=np.float32)
        sentence = np.zeros((1, len(KINDS)), dtype=np.float32)
        for ent in extraction.extract(message.get(TEXT)).entities:
            kinds = [ent["entity"], "any_fact"]
            if ent["entity"] == "measure" and ent["value"] == MISCONDUCT_MEASURE:
                kinds.append("misconduct")
            columns = [_COLUMN[k] for k in kinds if k in _COLUMN]
            sentence[0, columns] = 1.0
            for i, token in enumerate(tokens):
                if token.start < ent["end"] and ent["start"] < token.end:
                    sequence[i, columns] = 1.0
        self.add_features_to_message(scipy.sparse.coo_matrix(sequence), scipy.sparse.coo_matrix(sentence),
                                     TEXT, message)
