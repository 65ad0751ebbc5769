"""The chat load benchmark (scripts/benchmark-chat): simulated users, server usage, the stock Rasa bot."""
