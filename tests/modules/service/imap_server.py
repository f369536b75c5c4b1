"""A real IMAP server for the support-mailbox tests: Debian's dovecot on 127.0.0.1.

``ImapServer().start()`` runs a private dovecot instance (own config, base dir and maildir in a
temporary folder, one passwd-file user, plaintext login on localhost, no TLS) on a free port.
``deliver(raw)`` APPENDs a message through imaplib, as a mail server would deliver it;
``flags(uid)`` and ``uids()`` read back what the poller did. Run as root, the login and mail
processes use Debian's unprivileged ``dovenull``/``dovecot`` users (dovecot refuses root).
"""

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "support@peyvand.test"
PASSWORD = "mailbox secret"


def available() -> bool:
    """Whether dovecot is installed here."""
    return os.access(DOVECOT, os.X_OK)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _users() -> tuple[str, str, str]:
    """(login user, internal user, mail user) dovecot accepts for this process."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        return me, me, me
    names = {p.pw_name for p in pwd.getpwall()}
    login = "dovenull" if "dovenull" in names else "nobody"
    internal = "dovecot" if "dovecot" in names else "nobody"
    return login, internal, internal


CONFIG = """\
base_dir = {dir}/run
state_dir = {dir}/state
instance_name = peyvand-test-{port}
listen = 127.0.0.1
protocols = imap
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login}
default_internal_user = {internal}
default_internal_group = {internal_group}
first_valid_uid = 1
log_path = {dir}/dovecot.log
mail_location = maildir:{dir}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={dir}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
  }}
}}
"""


def _self_signed(directory: Path) -> Path:
    """A certificate for localhost/127.0.0.1 and its key; returns the certificate's path."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (directory / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    path = directory / "cert.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


class ImapServer:
    """A private dovecot on 127.0.0.1 with one mailbox user (``USER``/``PASSWORD``).

    ``tls=True`` adds a self-signed certificate (``cert_path``, for clients to trust):
    STARTTLS on ``port`` and implicit TLS on ``ssl_port``.
    """

    def __init__(self, tls: bool = False):
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.tls = tls
        self.ssl_port = _free_port() if tls else 0
        self.cert_path: Path | None = None
        self.user = USER
        self.password = PASSWORD
        self.dir = Path(tempfile.mkdtemp(prefix="peyvand-imap-"))
        self._process: subprocess.Popen | None = None

    def start(self) -> "ImapServer":
        login, internal, mail_user = _users()
        group = pwd.getpwnam(mail_user).pw_gid
        internal_group = pwd.getpwnam(internal).pw_gid
        self.dir.chmod(0o755)  # the unprivileged dovecot processes must reach their files
        for sub in ("run", "state", "mail"):
            (self.dir / sub).mkdir()
        if os.geteuid() == 0:
            os.chown(self.dir / "mail", pwd.getpwnam(mail_user).pw_uid, group)
        (self.dir / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        ssl = "ssl = no"
        if self.tls:
            self.cert_path = _self_signed(self.dir)
            ssl = (f"ssl = yes\nssl_cert = <{self.cert_path}\n"
                   f"ssl_key = <{self.dir / 'key.pem'}")
        (self.dir / "dovecot.conf").write_text(CONFIG.format(
            ssl=ssl, ssl_port=self.ssl_port, dir=self.dir, port=self.port, login=login,
            internal=internal,
            internal_group=grp.getgrgid(internal_group).gr_name, mail_user=mail_user,
            mail_group=grp.getgrgid(group).gr_name))
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.dir / "dovecot.conf")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                output = self._process.stdout.read().decode(errors="replace")
                raise RuntimeError(f"dovecot did not start: {output}\n{self.log()}")
            try:
                with self.connect():
                    return self
            except (OSError, imaplib.IMAP4.error):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not answer on {self.port}: {self.log()}")

    def log(self) -> str:
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        if self._process is not None and self._process.stdout:
            self._process.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def connect(self) -> imaplib.IMAP4:
        """A logged-in imaplib client (use as a context manager)."""
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            client.login(self.user, self.password)
        except Exception:
            client.shutdown()
            raise
        return client

    def deliver(self, raw: bytes | str, folder: str = "INBOX") -> None:
        """Put a message into the mailbox (IMAP APPEND), unread, as delivery would."""
        data = raw.encode("utf-8") if isinstance(raw, str) else raw
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        with self.connect() as client:
            status, answer = client.append(folder, "", imaplib.Time2Internaldate(time.time()),
                                           data)
            assert status == "OK", answer

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.connect() as client:
            client.select(folder, readonly=True)
            _status, data = client.uid("SEARCH", None, "ALL")
            return [int(x) for x in (data[0] or b"").split()]

    def flags(self, uid: int, folder: str = "INBOX") -> str:
        """The flags of one message, as dovecot reports them (e.g. ``\\Seen``)."""
        with self.connect() as client:
            client.select(folder, readonly=True)
            _status, data = client.uid("FETCH", str(uid), "(FLAGS)")
            return (data[0] or b"").decode()
