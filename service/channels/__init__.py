"""Chat channels beyond Rasa's REST channel (WeChat: `wechat.py`).

Every module here that defines `router` (a FastAPI APIRouter) is included by create_app() as is;
an optional `setup(app)` runs at start-up. See service/README.md.
"""
