"""The monitoring centre: authenticated frames over TCP, events in SQLite,
acknowledgements, orders and comms-loss alerts."""
