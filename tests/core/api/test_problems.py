"""Every API error is application/problem+json: 401, 403, 404, 405, 409, 422, 500."""

from tests.core.api.conftest import assert_problem, bearer


def test_not_found_and_method_not_allowed(api_app, make_user, make_token):
    client = api_app.test_client()
    make_user()
    secret = make_token()
    assert_problem(client.get("/api/v1/nothing-here", headers=bearer(secret)), 404)
    response = client.delete("/api/v1/me", headers=bearer(secret))
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_validation_errors_are_422_with_field_errors(api_app, make_user, make_token):
    client = api_app.test_client()
    make_user()
    secret = make_token()
    response = client.post("/api/v1/apitest/points", headers=bearer(secret),
                           json={"points": 0, "extra": 1})
    body = assert_problem(response, 422)
    fields = body["errors"]["json"]
    assert set(fields) == {"customer", "points", "extra"}
    assert fields["customer"] == ["Missing data for required field."]


def test_abort_message_reaches_the_client(api_app, make_user, make_token):
    client = api_app.test_client()
    make_user()
    body = assert_problem(client.get("/api/v1/apitest/conflict",
                                     headers=bearer(make_token())), 409)
    assert body["detail"] == "Invoice 12 is already posted."


def test_server_error_hides_details(api_app, make_user, make_token):
    api_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = api_app.test_client()
    make_user()
    body = assert_problem(client.get("/api/v1/apitest/boom", headers=bearer(make_token())), 500)
    assert "boom" not in body["detail"]


def test_forbidden_and_unauthorized_shapes(api_app, make_user, make_token):
    client = api_app.test_client()
    make_user("agent@example.ir", role="agent")
    assert_problem(client.get("/api/v1/apitest/admin-only"), 401)
    assert_problem(client.get("/api/v1/apitest/admin-only",
                              headers=bearer(make_token("agent@example.ir"))), 403)


def test_ui_errors_stay_html(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
