"""One jsonschema validator for every custom action's response, built once (issue 13).

Rasa 3.6 checks each action server response with `jsonschema.validate(result, schema)`, which
re-checks the schema itself and builds a new validator on every call: a profile of the Rasa server
under load put 35% of its CPU there (`RemoteAction._validate_action_result`). `install()` replaces that
method with one that validates against a validator compiled once, with the same schema, the same error
and the same message. Rasa is not forked: the method is swapped at start-up, when the model's
components are created (FactsEntityExtractor.create), so every Rasa server the project starts — `make
run`, the tests, deploy/ — has it. HOTLINE_RASA_FAST=0 leaves Rasa's own method (for before/after runs).

Each event is checked against its own kind's branch of the schema's `oneOf` (the branches are told
apart by `event`'s const), not against all 23 in turn: the same answer for a valid response at a
tenth of the work. Anything that fails that quick check is validated again by the full validator,
so an invalid response gets exactly the error Rasa's own check gives.
"""
from __future__ import annotations

import os
import threading

_LOCK = threading.Lock()
MARK = "_hotline_fast_validation"


def installed() -> bool:
    from rasa.core.actions.action import RemoteAction

    return bool(getattr(RemoteAction._validate_action_result, MARK, False))


def install() -> bool:
    """Swap in the precompiled validator (idempotent). Returns whether it is in effect."""
    if os.environ.get("HOTLINE_RASA_FAST", "1").strip() == "0":
        return False
    with _LOCK:
        if installed():
            return True
        from jsonschema import ValidationError, validators
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.constants import DOCS_BASE_URL

        schema = RemoteAction.action_response_format_spec()
        cls = validators.validator_for(schema)
        cls.check_schema(schema)  # once, here
        validator = cls(schema)
        quick = _quick_check(cls, schema)

        def _validate_action_result(self, result) -> bool:
            if quick(result):
                return True
            # jsonschema.validate raises the best match of the errors; so do we
            from jsonschema.exceptions import best_match

            error = best_match(validator.iter_errors(result))
            if error is None:
                return True
            error.message += (
                ". Failed to validate Action server response from API, make sure your response from the "
                f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions")
            raise error

        setattr(_validate_action_result, MARK, True)
        RemoteAction._validate_action_result = _validate_action_result
        assert ValidationError  # the type callers catch is jsonschema's own, unchanged
        return True


def _quick_check(cls, schema: dict):
    """A check that says True only for responses the full schema accepts: the envelope without
    the events' items, then each event against the item schema without `oneOf` and the one
    branch whose `event` const is its own. With distinct consts, exactly that branch can pass, so
    this is the `oneOf` itself. When the schema is not of that shape, nothing is ever quick."""
    try:
        events = schema["properties"]["events"]
        item = events["items"]
        branches = {b["properties"]["event"]["const"]: cls(b) for b in item["oneOf"]}
        if len(branches) != len(item["oneOf"]):
            raise KeyError("two branches share an event name")
    except (KeyError, TypeError):
        return lambda result: False
    envelope = cls({**schema, "properties": {**schema["properties"],
                                             "events": {k: v for k, v in events.items() if k != "items"}}})
    base = cls({k: v for k, v in item.items() if k != "oneOf"})

    def quick(result) -> bool:
        if not envelope.is_valid(result):
            return False
        for event in (result.get("events") or []) if isinstance(result, dict) else []:
            branch = branches.get(event.get("event")) if isinstance(event, dict) else None
            if branch is None or not base.is_valid(event) or not branch.is_valid(event):
                return False
        return True

    return quick
