"""SNS message signing: the emulator's RSA key, its self-signed certificate and the canonical strings.

SignatureVersion "1" is SHA1withRSA, "2" SHA256withRSA (PKCS#1 v1.5), over "Name\nvalue\n" pairs of
the documented fields in byte order: Notification signs Message, MessageId, Subject (when present),
Timestamp, TopicArn, Type; SubscriptionConfirmation and UnsubscribeConfirmation sign Message,
MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type. The Signature is base64.
"""
from __future__ import annotations

import base64
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from cloudtrail_emulator.generators.atomic_file import write_atomic

NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
CERT_VALIDITY = timedelta(days=3650)


def string_to_sign(message: dict[str, str]) -> bytes:
    """The canonical string SNS signs for a message of `message["Type"]`."""
    fields = NOTIFICATION_FIELDS if message["Type"] == "Notification" else CONFIRMATION_FIELDS
    return "".join(f"{name}\n{message[name]}\n" for name in fields if name in message).encode("utf-8")


class SnsSigner:
    """An RSA-2048 key and a self-signed certificate for it; persisted at `path` when given."""

    def __init__(self, key: rsa.RSAPrivateKey, certificate: x509.Certificate):
        self._key = key
        self.certificate = certificate

    @classmethod
    def create(cls, now: datetime) -> "SnsSigner":
        """A fresh key with a certificate valid from a day before `now` for ten years."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cloudtrail-emulator")])
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + CERT_VALIDITY)
            .sign(key, hashes.SHA256()))
        return cls(key, certificate)

    @classmethod
    def load_or_create(cls, path: Path | None, now: datetime) -> "SnsSigner":
        """The signer stored at `path` (key then certificate, PEM), else a new one saved there."""
        if path is not None and path.exists():
            data = path.read_bytes()
            key = serialization.load_pem_private_key(data, password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError(f"{path} does not hold an RSA key")
            return cls(key, x509.load_pem_x509_certificate(data))
        signer = cls.create(now)
        if path is not None:
            signer._save(path)
        return signer

    def _save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        key_pem = self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())
        write_atomic(path, key_pem + self.certificate_pem)

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, message: dict[str, str], version: str = "1") -> str:
        """The base64 Signature of `message` for SignatureVersion `version` ("1" or "2")."""
        signature = self._key.sign(string_to_sign(message), padding.PKCS1v15(), _HASHES[version]())
        return base64.b64encode(signature).decode("ascii")
