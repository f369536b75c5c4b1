from tests.conftest import csrf_from


def test_login_and_dashboard(client, make_user, login):
    make_user()
    assert client.get("/").status_code == 302
    login()
    page = client.get("/")
    assert page.status_code == 200
    assert "داشبورد".encode() in page.data or b"Dashboard" in page.data
    assert csrf_from(page)
