"""Live hand-off: a patient (or a member of staff) moves a conversation from the assistant to a person.

- `queue`: the records (waiting, taken, returned, closed; callback when nobody took it in time,
  restarted when the patient started over) and what was said meanwhile, in the tracker store's
  database (bot.store.models.Handoff, HandoffMessage).
- `availability`: whether a person can be asked now (opening hours, HANDOFF_MODE), and how long a
  chat waits for one (HANDOFF_WAIT_SECONDS).
- `outbox`: in the Rasa server, times out chats nobody took and sends staff replies and notices on
  the patient's channel; a widget that was away gets what it missed when it connects again.
- `history`: how the hand-offs went, for staff (labels, the case export).
- `texts.yml`: the patient-facing wording.

While a hand-off is live every channel records the patient's messages for the console instead of
passing them to Rasa (bot.channels.never_silent.respond), so the assistant stays silent.
"""
