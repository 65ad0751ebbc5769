"""Knee triage assistant: the application library behind the Rasa bot."""
