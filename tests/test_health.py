"""/healthz: the trivial route for load balancers and the page benchmark."""


def test_healthz_answers_ok_as_plain_text_without_a_session(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"
    assert response.mimetype == "text/plain"
    assert "Set-Cookie" not in response.headers
