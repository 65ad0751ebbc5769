"""The demo clinic website with the chat widget: `python -m bot.web` (127.0.0.1:WEB_PORT, default 8000).

Serves web/demo/ (pages where {{WIDGET_ATTRIBUTES}} and {{CLINIC_NAME}} are filled in), the widget
from web/widget/ and socket.io-client from node_modules (installed by `npm ci` in
scripts/setup), so nothing is fetched from a CDN.
"""
