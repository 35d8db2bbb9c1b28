"""Fixture: a moto S3 server on a free loopback port (filled by the stores work)."""
