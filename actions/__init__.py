"""Rasa action server: thin adapters between Rasa's tracker and the `bot` library."""

from bot.log_privacy import install as _keep_patient_data_out_of_logs

_keep_patient_data_out_of_logs()
