"""The event pipeline: recorder, event index and lookup, delivery, Insights."""
