"""Rasa custom actions for the 12345 assistant (issue 3, dialogue half).

`rasa run actions --actions actions` imports every submodule of this package and registers
each Action subclass. Nothing here does work at import time: policy data, extraction tables and
the ticket client are loaded on first use.
"""
