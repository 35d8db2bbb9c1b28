"""Fixture: the emulator server on a free loopback port (filled by the server work)."""
