"""Where students can reach this server: the address the share panel and its QR code show.

It comes from the settings, never from a request's Host header (the teacher's own browser
may say 127.0.0.1 or localhost): `public_url` when set (behind a proxy), else the listening
address, and for 0.0.0.0 / :: the machine's LAN addresses, found without sending a packet.
"""

import contextlib
import ipaddress
import socket
import struct
from dataclasses import dataclass

from app.config import Settings

LECTURE_COMMAND = "make lecture"  # or: backprop-playground --lecture
ANY = {"0.0.0.0", "::", ""}
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
# Connecting a UDP socket sends nothing: the kernel only picks the route, and with it the
# source address this machine would use towards each private network.
PRIVATE_TARGETS = ("10.255.255.255", "172.31.255.255", "192.168.255.255", "100.127.255.255")
SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address


@dataclass(frozen=True)
class Reach:
    """`base`: the URL students open (no trailing slash), None when there is none;
    `others`: further LAN addresses; `loopback`: the server listens on this machine only."""

    base: str | None
    others: tuple[str, ...] = ()
    loopback: bool = False
    listening: str = ""


def is_loopback(host: str) -> bool:
    if host.lower() in LOCAL_NAMES:
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    return False


def _usable(address: str) -> bool:
    """An IPv4 address another machine may reach: not loopback, link-local or unspecified."""
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def _routed() -> list[str]:
    found = []
    for target in PRIVATE_TARGETS:
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((target, 9))
            found.append(s.getsockname()[0])
    return found


def _interfaces() -> list[str]:
    """Every interface's IPv4 address (Linux; elsewhere the routed ones have to do)."""
    found = []
    with contextlib.suppress(OSError, AttributeError, ImportError):
        import fcntl

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _, name in socket.if_nameindex():
                with contextlib.suppress(OSError):
                    packed = struct.pack("256s", name.encode()[:15])
                    answer = fcntl.ioctl(s.fileno(), SIOCGIFADDR, packed)
                    found.append(socket.inet_ntoa(answer[20:24]))
    return found


def lan_addresses() -> list[str]:
    """This machine's IPv4 LAN addresses, the one its routes prefer first; no packet sent."""
    seen: dict[str, None] = {}
    for address in _routed() + sorted(_interfaces()):
        if _usable(address):
            seen.setdefault(address)
    return list(seen)


def _url(host: str, port: int) -> str:
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}" if port == 80 else f"http://{host}:{port}"


def reach(settings: Settings) -> Reach:
    """Where students reach this server, as the settings say it listens."""
    host, port = settings.host, settings.port
    listening = _url(host or "0.0.0.0", port)
    if settings.public_url:
        return Reach(settings.public_url.rstrip("/"), listening=listening)
    if is_loopback(host):
        return Reach(None, loopback=True, listening=listening)
    if host in ANY:
        urls = [_url(address, port) for address in lan_addresses()]
        return Reach(urls[0] if urls else None, tuple(urls[1:]), listening=listening)
    return Reach(_url(host, port), listening=listening)


def students_url(settings: Settings, path: str) -> str:
    """`path` at the address students reach; the listening one when there is none (make run)."""
    where = reach(settings)
    return (where.base or where.listening) + path
