"""The one fact extractor: Chinese caller speech and agents' notes → partial Facts.

Pure Python (stdlib + PyYAML + policy_kb) so that the Rasa side (Python 3.10), the action server
and the service's copilot all use the same rules:

    extract(text, *, expected_field=None) -> Extraction   (.facts, .entities, .measures, .urgent_reason)
    merge_facts(old, new) -> dict                          later facts override earlier ones
    warm_up()                                              compile the rule tables ahead of the first call

Nothing is compiled at import time; the rule tables are built on first use and cached.
"""
from extraction.core import Extraction, extract, merge_facts, userdict_terms, warm_up  # noqa: F401

__all__ = ["Extraction", "extract", "merge_facts", "userdict_terms", "warm_up"]
