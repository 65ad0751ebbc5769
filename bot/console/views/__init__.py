"""The console's pages, one module per area; each module's `bp` is a Sanic blueprint."""
