"""Server-rendered pages for staff: login, the agents' copilot, the county ticket queue.

`service.web.pages.router` is picked up by the plug-in loader in service/api/main.py. Pages read
the access token from an HttpOnly cookie and reuse the JSON API's own dependencies and route
functions, so a page never lets anyone do or see more than the API would.
"""
