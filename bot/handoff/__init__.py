"""Live hand-off: a patient (or a member of staff) moves a conversation from the assistant to a person.

- `queue`: the records (waiting, taken, returned, closed) and what was said meanwhile, in the
  tracker store's database (bot.store.models.Handoff, HandoffMessage).
- `availability`: whether a person can be asked now (opening hours, HANDOFF_MODE).
- `outbox`: in the Rasa server, sends staff replies and notices on the patient's channel.
- `texts.yml`: the patient-facing wording.

While a hand-off is live every channel records the patient's messages for the console instead of
passing them to Rasa (bot.channels.never_silent.respond), so the assistant stays silent.
"""
