import pytest


@pytest.fixture(autouse=True)
def _fresh_suggestion_cache():
    """The fitted catalogue is per process; a test must not see the rolled-back projects of another."""
    from backend.applicants import suggestions

    suggestions.clear_cache()
    yield
    suggestions.clear_cache()
