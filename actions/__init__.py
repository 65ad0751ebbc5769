"""Rasa action server: thin adapters between Rasa's tracker and the `bot` library."""

from bot.clinic import clinic
from bot.log_privacy import install as _keep_patient_data_out_of_logs

_keep_patient_data_out_of_logs()
# Check the clinic file when the action server starts: a mistake stops it with a message naming
# the field, instead of surfacing in the middle of a patient's conversation.
clinic()
