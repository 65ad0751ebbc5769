"""Rasa action server: thin adapters between Rasa's tracker and the `bot` library."""
