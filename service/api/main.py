"""The routers: /api/v1/* resources, the REST chat channel, /healthz, and plug-in routers.

Plug-ins: every module in the packages `service.channels` and `service.web` that defines
`router` (an APIRouter) is included as is (its own paths, e.g. `/wechat`); nothing here needs
editing. A module may also define `setup(app)` for start-up work (called from the lifespan).
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from types import ModuleType

from fastapi import APIRouter

from service.api.routes import auth, chat, conversations, copilot, health, policy, tickets

PLUGIN_PACKAGES = ("service.channels", "service.web")

api_router = APIRouter(prefix="/api/v1")
for _module in (auth, policy, copilot, conversations, tickets):
    api_router.include_router(_module.router)

root_routers = (chat.router, health.router)


def plugin_modules() -> list[ModuleType]:
    found = []
    for package in PLUGIN_PACKAGES:
        if importlib.util.find_spec(package) is None:
            continue
        pkg = importlib.import_module(package)
        if hasattr(pkg, "router"):
            found.append(pkg)
        for info in pkgutil.iter_modules(pkg.__path__):
            module = importlib.import_module(f"{package}.{info.name}")
            if hasattr(module, "router"):
                found.append(module)
    return found
