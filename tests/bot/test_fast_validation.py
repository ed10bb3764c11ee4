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
