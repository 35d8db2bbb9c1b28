"""SNS Query API and its message signing."""
