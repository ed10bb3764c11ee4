"""The hotline service: FastAPI gateway for the policy API, the copilot, chat channels and tickets.

Nothing runs at import time; `service.main.create_app()` builds the application.
"""
