"""Several machines imitated on this one, for tests and benchmarks of runs on several workers.

Each imitated machine is a Linux network namespace with its own loopback and one interface on a
bridge this machine owns; "this machine" has the bridge's first address. Servers the workers must
reach (PostgreSQL, Redis, the sandbox, VictoriaMetrics) listen on that address, so a worker reaches
them over a network, not through a shared loopback. The addresses are a private /24 made here, and
nothing is routed anywhere else. Where namespaces cannot be made (no privilege), every "machine" is
this one on loopback: `isolated` says which it was.
"""

import random
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType


def self_signed_certificate(folder: Path, address: str) -> tuple[Path, Path]:
    """A certificate and key for `address` (openssl): off loopback the sandbox serves HTTPS, as the
    providers do, and OAuth refuses plain HTTP; clients trust it through REQUESTS_CA_BUNDLE."""
    cert, key = folder / "sandbox.crt", folder / "sandbox.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={address}",
                    "-addext", f"subjectAltName=IP:{address}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


class HostsError(RuntimeError):
    """The bridge or a namespace could not be set up."""


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


def namespaces_available() -> bool:
    """Whether this process may create network namespaces (root with `ip` from iproute2)."""
    if shutil.which("ip") is None:
        return False
    probe = f"hp-probe-{random.randrange(16**6):06x}"
    if _ip("netns", "add", probe).returncode != 0:
        return False
    _ip("netns", "del", probe)
    return True


class Hosts:
    """`names` imitated machines on a private bridge (or, without namespaces, this machine)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.tag = f"{random.randrange(16**4):04x}"  # interface names are at most 15 characters
        self.subnet = f"10.231.{random.randrange(1, 255)}"
        self.isolated = False
        self._made: list[str] = []

    @property
    def address(self) -> str:
        """This machine's address, where the imitated machines reach its servers."""
        return f"{self.subnet}.1" if self.isolated else "127.0.0.1"

    def namespace(self, name: str) -> str:
        return f"hp{self.tag}-{name}"

    def command(self, name: str, argv: Sequence[str]) -> list[str]:
        """`argv` as run on the machine called `name`."""
        return ["ip", "netns", "exec", self.namespace(name), *argv] if self.isolated else list(argv)

    def start(self) -> "Hosts":
        if not namespaces_available():
            return self
        bridge = f"hpbr{self.tag}"
        self._run("link", "add", bridge, "type", "bridge")
        self._made.append(f"link:{bridge}")
        self._run("addr", "add", f"{self.subnet}.1/24", "dev", bridge)
        self._run("link", "set", bridge, "up")
        for number, name in enumerate(self.names, start=2):
            namespace, outside, inside = self.namespace(name), f"hp{self.tag}o{number}", f"hp{self.tag}i{number}"
            self._run("netns", "add", namespace)
            self._made.append(f"netns:{namespace}")
            self._run("link", "add", outside, "type", "veth", "peer", "name", inside)
            self._made.append(f"link:{outside}")
            self._run("link", "set", inside, "netns", namespace)
            self._run("link", "set", outside, "master", bridge)
            self._run("link", "set", outside, "up")
            self._run("-n", namespace, "addr", "add", f"{self.subnet}.{number}/24", "dev", inside)
            self._run("-n", namespace, "link", "set", inside, "up")
            self._run("-n", namespace, "link", "set", "lo", "up")
        self.isolated = True
        return self

    def _run(self, *args: str) -> None:
        done = _ip(*args)
        if done.returncode != 0:
            self.stop()
            raise HostsError(f"ip {' '.join(args)}: {done.stderr.strip()}")

    def stop(self) -> None:
        for made in reversed(self._made):
            kind, name = made.split(":", 1)
            _ip("netns", "del", name) if kind == "netns" else _ip("link", "del", name)
        self._made.clear()

    def __enter__(self) -> "Hosts":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
