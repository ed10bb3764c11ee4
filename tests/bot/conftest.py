"""Live Rasa tests: started by `make test-bot` in .venv-rasa with HOTLINE_RASA_MODEL set."""
import pytest

pytest.importorskip("rasa_sdk", reason="the live bot tests run in .venv-rasa (make test-bot)")
