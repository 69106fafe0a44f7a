"""An application object is freed once nothing uses it: tests and servers that make many keep memory flat."""

import gc
import weakref

from fastapi.testclient import TestClient

from backend.app import create_app


def test_an_app_that_served_requests_is_freed_once_dropped(engine):
    app = create_app()
    with TestClient(app) as client:
        assert client.get("/docs").status_code == 200, "the API docs page is served by the app"
        assert client.get("/").status_code == 200
    gone = weakref.ref(app)
    del app, client

    gc.collect()

    assert gone() is None, "something process-wide (a cache, a registry) still holds the app"
