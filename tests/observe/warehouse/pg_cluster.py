"""A private PostgreSQL cluster on loopback with password (SCRAM) authentication and TLS.

The shared local server trusts every loopback connection, so it can neither reject a password
nor speak TLS. This starts a throwaway cluster from the installed PostgreSQL binaries (as the
`postgres` OS user when the tests run as root), with a certificate signed by a test CA.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PASSWORD = "Cl-uster-pw-9137"
USER = "owner"


@dataclass
class Cluster:
    port: int
    ca_pem: str  # the CA that signed the server certificate
    other_ca_pem: str  # an unrelated CA


def _bin_dir() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ca(name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _server_cert(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@contextmanager
def running_cluster() -> Iterator[Cluster | None]:
    """Yields a started cluster, or None when PostgreSQL binaries cannot be run here."""
    bin_dir = _bin_dir()
    as_root = os.geteuid() == 0
    if bin_dir is None or (as_root and shutil.which("runuser") is None):
        yield None
        return
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="tripl-pg-cluster-"))
    data = root / "data"
    ca_key, ca = _ca("tripl test CA")
    _, other_ca = _ca("someone else's CA")
    server_key, server = _server_cert(ca_key, ca)
    (root / "pw").write_text(PASSWORD)
    if as_root:
        shutil.chown(root, "postgres")
        shutil.chown(root / "pw", "postgres")
    port = _free_port()
    started = False
    try:
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={root / 'pw'}"]
        subprocess.run(
            [*prefix, *initdb, "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        (data / "server.crt").write_text(_pem(server))
        (data / "server.key").write_bytes(
            server_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        (data / "server.key").chmod(0o600)
        if as_root:
            shutil.chown(data / "server.crt", "postgres")
            shutil.chown(data / "server.key", "postgres")
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} -c ssl=on"
        pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data)]
        subprocess.run(
            [*prefix, *pg_ctl, "-o", options, "-l", str(root / "log"), "-w", "start"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        started = True
        yield Cluster(port=port, ca_pem=_pem(ca), other_ca_pem=_pem(other_ca))
    finally:
        if started:
            subprocess.run(
                [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=120,
            )
        shutil.rmtree(root, ignore_errors=True)
