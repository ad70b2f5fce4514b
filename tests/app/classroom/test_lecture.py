"""The lecture command and the share panel: students are shown an address they can reach."""

import io
import re
import socket
import subprocess
from pathlib import Path

import pytest
import segno
from fastapi.testclient import TestClient

import app.__main__ as entry
import app.classroom.reach
from app.classroom.reach import lan_addresses, reach
from app.config import Settings
from app.main import create_app
from tests.cluster.cluster_servers import free_port

ROOT = Path(__file__).resolve().parents[3]
LAN = ["192.168.1.23", "10.0.0.7"]
HX = {"HX-Request": "true"}
FOREIGN_HOST = {"Host": "attacker.example:666"}


@pytest.fixture
def lan(monkeypatch):
    monkeypatch.setattr(app.classroom.reach, "lan_addresses", lambda: list(LAN))


@pytest.fixture
def serve(tmp_path):
    clients = []

    def make(**settings):
        client = TestClient(create_app(Settings(data_dir=tmp_path, workers=1, **settings)))
        clients.append(client.__enter__())
        session = client.post("/api/sessions", json={}).json()
        return client, session["id"]

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def qr_svg(url: str) -> str:
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", scale=8, border=2, dark="#000", light="#fff", xmldecl=False
    )
    return out.getvalue().decode()


def share(client, session_id) -> str:
    response = client.get(f"/fragments/share/{session_id}", headers={**HX, **FOREIGN_HOST})
    assert response.status_code == 200
    return response.text


def test_lan_addresses_are_found_without_loopback_or_link_local_ones():
    for address in lan_addresses():
        assert not address.startswith(("127.", "169.254.", "0."))


def test_a_server_on_every_address_offers_the_machines_lan_address(lan):
    where = reach(Settings(host="0.0.0.0", port=8123))
    assert where.base == "http://192.168.1.23:8123" and where.others == ("http://10.0.0.7:8123",)
    assert not where.loopback


def test_a_public_url_wins_over_the_listening_address(lan):
    where = reach(Settings(host="0.0.0.0", public_url="https://class.example.org/bp/"))
    assert where.base == "https://class.example.org/bp"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.1.1"])
def test_a_loopback_server_has_no_address_for_students(host):
    assert reach(Settings(host=host)).base is None
    assert reach(Settings(host=host)).loopback


def test_a_public_url_must_be_http():
    with pytest.raises(ValueError, match="public_url"):
        Settings(public_url="class.example.org")


def test_the_share_panel_of_a_loopback_server_says_students_cannot_join_and_how_to_fix_it(serve):
    client, session_id = serve()
    text = share(client, session_id)
    assert "Students cannot join yet" in text and "this computer only" in text
    assert "make lecture" in text and "backprop-playground --lecture" in text
    assert 'id="qr"' not in text and "attacker.example" not in text


def test_the_share_panel_in_a_lecture_shows_the_lan_address_never_the_host_header(serve, lan):
    client, session_id = serve(host="0.0.0.0", port=8000)
    text = share(client, session_id)
    assert "http://192.168.1.23:8000/join" in text
    assert f"http://192.168.1.23:8000/watch/{session_id}" in text
    assert "http://10.0.0.7:8000/join" in text
    assert "attacker.example" not in text and "cannot join" not in text
    assert 'id="qr"' in text


def test_the_qr_code_encodes_the_lan_watch_link_whatever_the_host_header(serve, lan):
    client, session_id = serve(host="0.0.0.0", port=8000)
    svg = client.get(f"/api/sessions/{session_id}/qr.svg", headers=FOREIGN_HOST).text
    assert svg == qr_svg(f"http://192.168.1.23:8000/watch/{session_id}")
    assert svg != qr_svg(f"http://attacker.example:666/watch/{session_id}")


def test_behind_a_proxy_the_share_panel_and_qr_code_use_the_public_url(serve, lan):
    client, session_id = serve(host="127.0.0.1", public_url="https://class.example.org")
    text = share(client, session_id)
    assert "https://class.example.org/join" in text and "cannot join" not in text
    svg = client.get(f"/api/sessions/{session_id}/qr.svg", headers=FOREIGN_HOST).text
    assert svg == qr_svg(f"https://class.example.org/watch/{session_id}")


@pytest.fixture
def served(monkeypatch):
    """What main() would serve: the bound socket's address, instead of running the server."""
    monkeypatch.setenv("BACKPROP_HOST", "x")   # recorded, so that teardown restores them
    monkeypatch.setenv("BACKPROP_PORT", "8000")
    monkeypatch.delenv("BACKPROP_HOST")
    bound = {}

    def keep(sock):
        bound["address"] = sock.getsockname()[:2]
        sock.close()
    monkeypatch.setattr(entry, "serve", keep)
    return bound


def test_the_lecture_flag_listens_on_every_address_and_tells_the_app(served, lan, capsys):
    port = free_port()
    entry.main(["--lecture", "--port", str(port)])
    assert served["address"] == ("0.0.0.0", port)
    assert Settings().host == "0.0.0.0" and Settings().port == port
    assert f"Students join at http://192.168.1.23:{port}/join" in capsys.readouterr().err


def test_the_plain_command_stays_on_loopback_and_says_how_to_open_it(served, capsys):
    port = free_port()
    entry.main(["--port", str(port)])
    assert served["address"] == ("127.0.0.1", port)
    assert "make lecture" in capsys.readouterr().err


def test_a_port_in_use_is_one_clear_line_before_anything_is_announced(served, lan, capsys):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as stopped:
            entry.main(["--lecture", "--port", str(port)])
    message = str(stopped.value.code)
    suggested = int(re.fullmatch(rf"port {port} is in use: try --port (\d+)", message).group(1))
    assert suggested > port
    assert "Students join" not in capsys.readouterr().err and "address" not in served


@pytest.mark.parametrize("command", ["lecture", "run"])
def test_make_lecture_and_run_take_a_port(command):
    dry = subprocess.run(["make", "-n", command, "PORT=9123"], cwd=ROOT, capture_output=True,
                         text=True)
    flag = "--lecture " if command == "lecture" else ""
    assert dry.returncode == 0 and f"-m app {flag}--port 9123" in dry.stdout


def test_the_share_page_without_htmx_shows_the_same_address(serve, lan):
    client, session_id = serve(host="0.0.0.0", port=8000)
    page = client.get(f"/fragments/share/{session_id}", headers=FOREIGN_HOST)
    assert page.status_code == 200 and "http://192.168.1.23:8000/join" in page.text
    assert "attacker.example" not in page.text
