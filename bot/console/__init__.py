"""The receptionist console: a Sanic + Jinja2 web app over bot.store (run with `python -m bot.console`)."""
