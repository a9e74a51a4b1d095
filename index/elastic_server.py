"""A real, local Elasticsearch for tests, CI and benchmarks: fetch, unpack, start, wait, stop.

The server is the `integ-test-zip` distribution from Maven Central (server, transport and
x-pack security only: no `analysis-common`, so no `indonesian` analyzer, no painless, no
reindex and no `GET /`). It is fetched once with `mvn` into a cache outside the clone
(`$PANTAU_ES_CACHE`, default `~/.cache/pantau/elasticsearch`) and run:

* as an unprivileged system user when we are root (Elasticsearch refuses to run as root);
* with `ES_JAVA_HOME` (default the Temurin 25 JDK), a 512 MB heap, `discovery.type=single-node`,
  bound to 127.0.0.1 on a free port, data and logs in a temp dir;
* with security on (TLS with a CA we generate, and a bootstrap password for the `elastic`
  user in the keystore) or off.

Readiness is polled on `/_cluster/health` because this build has no `GET /`.
`scripts/elasticsearch.py` is the command-line face of this module.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ES_VERSION = os.environ.get("PANTAU_ES_VERSION", "9.2.4")
JAVA_HOME = os.environ.get("ES_JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64")
ES_USER = os.environ.get("PANTAU_ES_USER", "pantau-es")
HEAP = os.environ.get("PANTAU_ES_HEAP", "512m")
ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"


class ServerError(RuntimeError):
    """Elasticsearch could not be fetched or started; the message says what to fix."""


def cache_dir() -> Path:
    return Path(
        os.environ.get("PANTAU_ES_CACHE", Path.home() / ".cache" / "pantau" / "elasticsearch")
    )


def _is_root() -> bool:
    return os.geteuid() == 0


def fetch(version: str = ES_VERSION) -> Path:
    """The distribution zip, downloaded with mvn from Maven Central on first use."""
    target = cache_dir() / f"elasticsearch-{version}.zip"
    if target.is_file():
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServerError(
            "mvn not found: it fetches Elasticsearch from Maven Central "
            f"({ARTIFACT.format(version=version)}); install Maven or put the zip at {target}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "dependency:copy",
            f"-Dartifact={ARTIFACT.format(version=version)}",
            f"-DoutputDirectory={target.parent}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not target.is_file():
        raise ServerError(
            f"mvn could not fetch {ARTIFACT.format(version=version)}:\n"
            f"{(result.stdout + result.stderr)[-2000:]}"
        )
    return target


def install(version: str = ES_VERSION) -> Path:
    """The unpacked distribution (its home directory), unpacking the cached zip once."""
    archive = fetch(version)
    # The service user must be able to read the home; root's cache usually sits under /root
    # (mode 700), so as root unpack into a world-readable place instead.
    base = Path("/var/tmp/pantau-elasticsearch") if _is_root() else cache_dir()
    home = base / f"elasticsearch-{version}"
    if (home / "bin" / "elasticsearch").is_file():
        return home
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)
    staging = Path(tempfile.mkdtemp(dir=base, prefix=".unpack-"))
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(staging)
    unpacked = staging / f"elasticsearch-{version}"
    for path in (unpacked / "bin").iterdir():
        path.chmod(0o755)
    jdk_bin = unpacked / "jdk" / "bin"
    if jdk_bin.is_dir():
        for path in jdk_bin.iterdir():
            path.chmod(0o755)
    os.chmod(staging, 0o755)
    unpacked.rename(home)  # atomic: a concurrent start sees the whole tree or none
    shutil.rmtree(staging, ignore_errors=True)
    return home


def ensure_user() -> str | None:
    """The user the server runs as: our own, or (when root) an unprivileged system user."""
    if not _is_root():
        return None
    try:
        pwd.getpwnam(ES_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER],
            check=True,
        )
    return ES_USER


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a node certificate for localhost/127.0.0.1 (ca.crt, node.crt, node.key).

    Generated in Python (cryptography comes with Scrapy) because elasticsearch-certutil
    costs two JVM starts."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Pantau test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    node_key = ec.generate_private_key(ec.SECP256R1())
    node_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(node_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = (directory / "ca.crt", directory / "node.crt", directory / "node.key")
    paths[0].write_bytes(ca_cert.public_bytes(pem))
    paths[1].write_bytes(node_cert.public_bytes(pem))
    paths[2].write_bytes(
        node_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@dataclass
class ElasticServer:
    """One running single-node server; `kill` and `start` again keep its data and port."""

    home: Path
    workdir: Path
    port: int
    security: bool
    user: str | None
    password: str | None = None
    ca_certs: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"{'https' if self.security else 'http'}://127.0.0.1:{self.port}"

    @property
    def username(self) -> str | None:
        return "elastic" if self.security else None

    def client_options(self) -> dict[str, object]:
        """Keyword arguments for `index.elastic.ElasticIndex` (and the settings keys)."""
        return {
            "url": self.url,
            "username": self.username,
            "password": self.password,
            "ca_certs": str(self.ca_certs) if self.ca_certs else None,
        }

    def start(self, timeout: float = 180.0) -> None:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("ES_", "JAVA_"))},
            "ES_JAVA_HOME": JAVA_HOME,
            "ES_PATH_CONF": str(self.workdir / "config"),
            "ES_JAVA_OPTS": f"-Xms{HEAP} -Xmx{HEAP}",
            "ES_TMPDIR": str(self.workdir / "tmp"),
        }
        if not Path(JAVA_HOME, "bin", "java").is_file():
            raise ServerError(f"no JDK at {JAVA_HOME}: set ES_JAVA_HOME to a JDK 21+ home")
        log = (self.workdir / "console.log").open("ab")
        self.process = subprocess.Popen(
            [str(self.home / "bin" / "elasticsearch")],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            user=self.user,
            group=self.user,
            start_new_session=True,  # its own process group, so kill() takes the JVM too
        )
        log.close()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServerError(
                    f"Elasticsearch exited with {self.process.returncode} while starting:\n"
                    f"{self.log_tail()}"
                )
            try:
                health = self.request("/_cluster/health?wait_for_status=yellow&timeout=5s")
                if health.get("status") in ("yellow", "green"):
                    return
                last = json.dumps(health)
            except (OSError, urllib.error.URLError) as exc:
                last = str(exc)
            time.sleep(1)
        self.kill()
        raise ServerError(
            f"Elasticsearch did not become ready in {timeout:.0f}s ({last}):\n{self.log_tail()}"
        )

    def request(self, path: str, method: str = "GET", body: object = None) -> dict[str, object]:
        """A raw request to the server with its own credentials (readiness, test set-up)."""
        request = urllib.request.Request(self.url + path, method=method)
        if body is not None:
            request.data = json.dumps(body).encode()
            request.add_header("Content-Type", "application/json")
        context = None
        if self.security:
            token = base64.b64encode(f"elastic:{self.password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
            context = ssl.create_default_context(cafile=str(self.ca_certs))
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            result: dict[str, object] = json.loads(response.read() or b"{}")
            return result

    def log_tail(self, lines: int = 40) -> str:
        path = self.workdir / "console.log"
        if not path.is_file():
            return "(no console log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, not a shutdown (for fault tests)."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, signum: int) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        # The launcher may exit before the server JVM in its group; wait for the port too.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.2)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def prepare(security: bool, workdir: Path | None = None, port: int | None = None) -> ElasticServer:
    """Set up the config, certificates and keystore of a new server (not started yet)."""
    home = install()
    user = ensure_user()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="pantau-es-"))
    config = workdir / "config"
    shutil.copytree(home / "config", config, dirs_exist_ok=True)
    for name in ("data", "logs", "tmp"):
        (workdir / name).mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    settings = {
        "cluster.name": "pantau-local",
        "node.name": "pantau-local-1",
        "path.data": str(workdir / "data"),
        "path.logs": str(workdir / "logs"),
        "network.host": "127.0.0.1",
        "http.port": port,
        "transport.port": free_port(),
        "discovery.type": "single-node",
        # Small CI disks would otherwise turn indices read-only at 95 % full.
        "cluster.routing.allocation.disk.threshold_enabled": False,
        "xpack.security.enabled": security,
    }
    server = ElasticServer(home=home, workdir=workdir, port=port, security=security, user=user)
    if security:
        ca = make_certificates(config / "certs")[0]
        settings |= {
            "xpack.security.http.ssl.enabled": True,
            "xpack.security.http.ssl.certificate": "certs/node.crt",
            "xpack.security.http.ssl.key": "certs/node.key",
            "xpack.security.http.ssl.certificate_authorities": "certs/ca.crt",
            "xpack.security.enrollment.enabled": False,
        }
        server.password = secrets.token_urlsafe(18)
        server.ca_certs = ca
        _keystore(home, config, server.password)
    (config / "elasticsearch.yml").write_text(
        "".join(f"{key}: {json.dumps(value)}\n" for key, value in settings.items())
    )
    if user is not None:
        subprocess.run(["chown", "-R", f"{user}:{user}", str(workdir)], check=True)
    return server


def _keystore(home: Path, config: Path, password: str) -> None:
    """The `elastic` user's password, as `bootstrap.password` in a new keystore: it is valid
    until a password is stored in the security index, which we never do."""
    env = {**os.environ, "ES_JAVA_HOME": JAVA_HOME, "ES_PATH_CONF": str(config)}
    tool = str(home / "bin" / "elasticsearch-keystore")
    subprocess.run([tool, "create"], env=env, check=True, capture_output=True)
    subprocess.run(
        [tool, "add", "-x", "-f", "bootstrap.password"],
        env=env,
        input=password.encode(),
        check=True,
        capture_output=True,
    )


def start(security: bool, timeout: float = 180.0) -> ElasticServer:
    server = prepare(security)
    try:
        server.start(timeout)
    except BaseException:
        server.kill()
        raise
    return server
