"""Synthesizes CloudTrail records, log files and digest chains; usable with no server."""
