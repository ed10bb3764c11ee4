"""The precompiled action-response validator (issue 13): in effect once the model's components are
created, the schema checked once and not per response, errors as Rasa's own."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.rasa]


def _remote_action():
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    return RemoteAction("action_extract_facts", EndpointConfig("http://127.0.0.1:1/webhook"))


def test_creating_the_extractor_installs_the_validator(monkeypatch):
    monkeypatch.delenv("HOTLINE_RASA_FAST", raising=False)
    from bot.components import fast_validation
    from bot.components.facts_extractor import FactsEntityExtractor

    FactsEntityExtractor.create(FactsEntityExtractor.get_default_config(), None, None, None)
    assert fast_validation.installed()


def test_valid_and_invalid_responses_are_told_apart_without_rechecking_the_schema(monkeypatch):
    import jsonschema
    from jsonschema import ValidationError

    from bot.components import fast_validation

    assert fast_validation.install()
    action = _remote_action()
    cls = jsonschema.validators.validator_for(action.action_response_format_spec())
    calls = []
    monkeypatch.setattr(cls, "check_schema", classmethod(lambda c, s: calls.append(s)))
    good = {"events": [{"event": "slot", "name": "facts", "value": {"county": "西吉县"}}],
            "responses": [{"response": "utter_noted"}]}
    for _ in range(20):
        assert action._validate_action_result(good) is True
    with pytest.raises(ValidationError) as err:
        action._validate_action_result({"events": [{"event": "slot"}], "responses": "not a list"})
    assert "Failed to validate Action server response" in err.value.message
    assert calls == []  # the schema was checked once, at install, not per response


def test_the_quick_check_agrees_with_rasa_s_full_schema_on_every_kind_of_event():
    """Each event is checked against its own branch only; the verdict must be the full schema's
    for valid events of every kind and for the ways an event goes wrong."""
    import jsonschema

    from bot.components.fast_validation import _quick_check

    schema = _remote_action().action_response_format_spec()
    cls = jsonschema.validators.validator_for(schema)
    full, quick = cls(schema), _quick_check(cls, schema)
    cases = [
        {"events": [{"event": "slot", "name": "facts", "value": None}]},
        {"events": [{"event": "bot", "text": "您好", "data": {}, "metadata": {}}]},
        {"events": [{"event": "active_loop", "name": "facts_form"}, {"event": "followup", "name": "x"}]},
        {"events": [{"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 1}}}]},
        {"events": [], "responses": [{"response": "utter_noted"}]},
        {},
        {"events": [{"event": "slot", "name": "facts"}]},           # slot without its value
        {"events": [{"event": "no_such_event"}]},
        {"events": [{"name": "facts", "value": 1}]},                # no event name
        {"events": [{"event": "slot", "name": 3, "value": 1}]},     # a name that is not a string
        {"events": [{"event": "slot", "name": "a", "value": 1, "timestamp": "noon"}]},
        {"events": "not a list"},
        {"events": [{"event": "entities"}]},
        {"responses": [1]},
        ["not", "an", "object"],
    ]
    verdicts = [(full.is_valid(case), quick(case)) for case in cases]
    assert all(q == f or (f and not q) for f, q in verdicts), verdicts  # quick never accepts what full rejects
    assert [q for _, q in verdicts] == [f for f, _ in verdicts], verdicts  # and for these, it is the same verdict
