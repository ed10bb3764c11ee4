"""One jsonschema validator for every custom action's response, built once (issue 13).

Rasa 3.6 checks each action server response with `jsonschema.validate(result, schema)`, which
re-checks the schema itself and builds a new validator on every call: a profile of the Rasa server
under load put 35% of its CPU there (`RemoteAction._validate_action_result`). `install()` replaces that
method with one that validates against a validator compiled once, with the same schema, the same error
and the same message. Rasa is not forked: the method is swapped at start-up, when the model's
components are created (FactsEntityExtractor.create), so every Rasa server the project starts — `make
run`, the tests, deploy/ — has it. HOTLINE_RASA_FAST=0 leaves Rasa's own method (for before/after runs).
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

        def _validate_action_result(self, result) -> bool:
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
