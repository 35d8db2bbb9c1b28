"""CloudTrail's trail API: the model (rules, state), its exceptions and the thin JSON responses."""
