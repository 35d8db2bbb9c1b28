"""Checks a trail's digest chains and log files in a store and names every bad file.

Reaches every verdict of `aws cloudtrail validate-logs` (digest not found, invalid format, missing
signature metadata, moved from its original location, public key not found, signature verification
failed; log file not found, hash mismatch, invalid format, data after the gzip member) and is
stricter in ways validate-logs is not (FORMATS.md section 4):

- Each linked digest's previousDigestS3Object/Bucket must name the chain's preceding digest, and
  previousDigestHashValue / previousDigestSignature must equal that digest's actual SHA-256 and
  signature ("previous digest link does not match"); a link to a digest that is gone makes that
  digest "not found".
- A linked digest must start where its predecessor ends ("period gap"). A starting digest after
  others is a chain restart: a note, not an error, as in validate-logs.
- A signing key of another region counts as "public key not found" when the keys' regions are known.
- Log files in the store that no digest lists are reported, never as tampering: "not in any
  digest" (a warning: the file was delivered inside a digested period yet is listed nowhere, e.g.
  inserted later, or listed only by a deleted digest), "awaiting a digest" (delivered after the
  newest digest ended) or "outside digest coverage" (delivered while no chain ran: before validation
  was turned on, between chains, or in a region without digests). Only invalid verdicts fail the
  report. With `trail_name`, log files digested by other trails sharing the prefix count as not digested.
- Log files listed by a digest whose signature fails are still checked (a bad hash or format is
  reported), since the list is the best evidence of what should be there; but a file only an invalid
  digest names is not reported "not found": the digest has its one verdict (a forged digest naming
  thousands of files gives one line, not thousands).
- A symbolic link in a local trail directory (`LocalStore`) that leads out of the directory is
  reported ("symbolic link out of the trail directory") and never read, nor anything under it.

Speed: one listing of `[prefix/]AWSLogs/` finds digests and log files together; every object is
read once (on a thread pool when `workers` > 1, for remote stores); signatures are
verified with `cryptography` against public keys loaded once per fingerprint.

The parts: `report` (verdicts and the report), `listing` (the one listing), `digests` (reading a
digest), `chains` (the links between digests), `logs` (log-file checks), `links` (symbolic links out of a
local tree), `run` (`validate_trail`).
"""
from cloudtrail_emulator.generators.validate.report import FileVerdict, Severity, ValidationReport, Verdict
from cloudtrail_emulator.generators.validate.run import validate_trail

__all__ = ["FileVerdict", "Severity", "ValidationReport", "Verdict", "validate_trail"]
