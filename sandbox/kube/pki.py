"""The sandbox cluster's certificates: one CA, the API server's serving cert, client certs.

Kubernetes authenticates a client certificate as the user of its Common Name in the
groups of its Organizations, so each component gets the identity kubeadm would give
it: ``system:kube-controller-manager``, ``system:kube-scheduler``,
``system:node:<node>`` in ``system:nodes`` (what the Node authorizer and
NodeRestriction admission recognise), and the admin in ``system:masters``. The
ServiceAccount token signing key is a separate key pair.

ECDSA P-256 throughout: generating it takes milliseconds, where RSA 2048 takes a
noticeable part of a second per key on this machine.
"""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=365)
# The names a client inside or outside the cluster may use for the API server.
API_SERVER_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)


def _new_key():
    return ec.generate_private_key(ec.SECP256R1())


def _write(path, data, mode=0o644):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as handle:
        handle.write(data)


def _write_key(path, key):
    _write(
        path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        0o600,
    )


def _write_cert(path, cert):
    _write(path, cert.public_bytes(serialization.Encoding.PEM))


def _name(common_name, organizations=()):
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    return x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject, issuer, public_key, now):
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


class Authority:
    """A CA in a directory: ``ca.crt`` and ``ca.key``, created on first use."""

    def __init__(self, directory):
        self.directory = directory
        self.cert_path = os.path.join(directory, "ca.crt")
        key_path = os.path.join(directory, "ca.key")
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if os.path.exists(self.cert_path) and os.path.exists(key_path):
            with open(key_path, "rb") as handle:
                self._key = serialization.load_pem_private_key(handle.read(), None)
            with open(self.cert_path, "rb") as handle:
                self._cert = x509.load_pem_x509_certificate(handle.read())
            return
        self._key = _new_key()
        now = datetime.datetime.now(datetime.UTC)
        subject = _name("canary-sandbox-ca")
        self._cert = (
            _builder(subject, subject, self._key.public_key(), now)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        _write_key(key_path, self._key)
        _write_cert(self.cert_path, self._cert)

    def path(self, name):
        return os.path.join(self.directory, name)

    def issue(self, name, common_name, organizations=(), server_names=(), server_ips=()):
        """Write ``<name>.crt`` and ``<name>.key``; return their paths.

        With server names or addresses the certificate serves TLS for them, otherwise
        it authenticates a client.
        """
        key = _new_key()
        now = datetime.datetime.now(datetime.UTC)
        serving = bool(server_names or server_ips)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if serving else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            _builder(_name(common_name, organizations), self._cert.subject, key.public_key(), now)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if serving:
            alternatives = [x509.DNSName(n) for n in server_names]
            alternatives += [x509.IPAddress(ipaddress.ip_address(a)) for a in server_ips]
            builder = builder.add_extension(
                x509.SubjectAlternativeName(alternatives), critical=False
            )
        cert_path, key_path = self.path(name + ".crt"), self.path(name + ".key")
        _write_key(key_path, key)
        _write_cert(cert_path, builder.sign(self._key, hashes.SHA256()))
        return cert_path, key_path


def signing_key_pair(directory):
    """The ServiceAccount token key pair (``sa.key``, ``sa.pub``), created on first use."""
    private_path = os.path.join(directory, "sa.key")
    public_path = os.path.join(directory, "sa.pub")
    if not (os.path.exists(private_path) and os.path.exists(public_path)):
        key = _new_key()
        _write_key(private_path, key)
        _write(
            public_path,
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )
    return private_path, public_path
