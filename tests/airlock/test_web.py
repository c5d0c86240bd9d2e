"""The airlock's pages over real HTTP, from ``fedsafe airlock serve`` in a subprocess."""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest

from airlock.backend_fixture import PASSWORD, make_backend
from airlock.serve import airlock_server


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, dict, str]:
        try:
            with self.opener.open(self.base + path) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode()

    def post(self, path: str, form: dict, *, csrf: bool = True) -> tuple[int, str]:
        if csrf:
            _, _, page = self.get("/login")
            form = {
                **form,
                "csrfmiddlewaretoken": re.search(r'csrfmiddlewaretoken" value="([^"]+)', page)[1],
            }
        request = urllib.request.Request(
            self.base + path,
            data=urllib.parse.urlencode(form, doseq=True).encode(),
            headers={"Referer": self.base + path},
        )
        try:
            with self.opener.open(request) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def login(self, name: str, password: str = PASSWORD) -> tuple[int, str]:
        return self.post("/login", {"username": name, "password": password})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    backend = make_backend(tmp_path_factory.mktemp("web") / "backend")
    with airlock_server(backend) as url:
        yield url


def test_a_wrong_password_is_refused_and_pages_need_a_login(server):
    client = Client(server)
    status, page = client.login("rita", "wrong")
    assert status == 400 and "not recognised" in page
    status, _, page = client.get("/workspaces/study/")
    assert "Sign in" in page


def test_a_researcher_sees_moderately_sensitive_outputs_only(server):
    client = Client(server)
    assert client.login("rita")[0] == 200
    status, _, page = client.get("/workspaces/study/")
    assert status == 200
    assert "output/table.csv" in page and "output/dataset.csv" not in page
    status, _, page = client.get("/workspaces/study/view/output/table.csv")
    assert "<th>group</th>" in page and "<td>250</td>" in page
    status, _, page = client.get("/workspaces/study/raw/output/dataset.csv")
    assert status == 400 and "highly_sensitive" in page


def test_text_is_shown_as_text_and_downloads_are_attachments(server):
    client = Client(server)
    client.login("rita")
    _, _, page = client.get("/workspaces/study/view/output/notes.txt")
    assert '<pre id="text">method notes' in page
    status, headers, body = client.get("/workspaces/study/raw/output/notes.txt?download=1")
    assert status == 200 and body == "method notes\n"
    assert headers["Content-Disposition"].startswith("attachment")


def test_html_is_shown_sandboxed(server):
    client = Client(server)
    client.login("rita")
    _, _, page = client.get("/workspaces/study/view/output/chart.html")
    assert re.search(r"<iframe[^>]* sandbox ", page)
    status, headers, body = client.get("/workspaces/study/raw/output/chart.html")
    assert status == 200 and body == "<p>chart</p>"
    assert headers["Content-Security-Policy"].startswith("sandbox;")
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_path_tricks_and_other_workspaces_are_refused(server):
    client = Client(server)
    client.login("olga")
    status, _, page = client.get("/workspaces/study/view/output/table.csv")
    assert status == 403 and "no access" in page
    client = Client(server)
    client.login("rita")
    status, _, page = client.get(
        "/workspaces/study/view/output/%2E%2E/%2E%2E/other/output/secret.csv"
    )
    assert status in (400, 404) and "secret" not in page.replace("secret.csv", "")


def test_a_form_without_the_csrf_token_is_refused(server):
    client = Client(server)
    client.login("rita")
    status, _ = client.post(
        "/workspaces/study/", {"files": "output/table.csv", "group": "g"}, csrf=False
    )
    assert status == 403


def test_a_bad_form_names_the_field(server):
    client = Client(server)
    client.login("rita")
    status, page = client.post("/workspaces/study/", {"files": "output/table.csv", "group": ""})
    assert status == 400 and "group: required" in page


def test_serve_refuses_a_bad_config_before_serving(tmp_path):
    backend = make_backend(tmp_path / "backend")
    (backend / "airlock/config.toml").write_text("[airlock]\nmax_file_bytes = 0\n")
    result = subprocess.run(
        [sys.executable, "-m", "fedsafe.cli", "airlock", "serve", "--backend-dir", str(backend)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "airlock.max_file_bytes: must be positive" in result.stderr
