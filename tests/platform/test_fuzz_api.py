"""Fuzzing the JSON API from its own OpenAPI document: no answer is a server error or a status it does not list.

Schemathesis generates requests for every operation (valid ones, and ones that break the schema: numbers
beyond their bounds, wrong types, missing fields) and sends them in-process through the ASGI app, signed in
with a bearer API token as each role, against the suite's database (DATABASE_URL). A scene like the permission
matrix's (a scheme, projects, an applicant with a choice, a finished round) makes small ids name real rows.

The generation is derandomized (the same cases every run) and never shrinks, so the run time stays bounded.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from backend.identity.tokens import create_api_token
from tests.authz.test_permission_matrix import build_world

ROLES = ("anonymous", "applicant", "ngo", "officer", "approver", "admin")
POSITIVE_EXAMPLES = 10
NEGATIVE_EXAMPLES = 6
CHECKS = [not_a_server_error, status_code_conformance]


def _fuzz_operation(operation, mode, examples: int, headers: dict[str, str]) -> tuple[int, list[str]]:
    """Sends up to `examples` generated cases; returns how many were sent and the first failure, if any."""
    sent = 0

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        nonlocal sent
        sent += 1
        # In-process, so only a busy machine is slow: the 10 s default read timeout is no verdict on the app.
        response = case.call(headers=headers, timeout=120)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except Unsatisfiable:
        pass  # nothing to break: an operation without parameters or body has no negative cases
    except (Exception, BaseExceptionGroup) as failure:  # one failure per operation and mode is enough to report
        found = [str(failure)] + [str(each) for each in getattr(failure, "exceptions", ())]
        return sent, [f"{operation.label} ({mode.value}): " + "\n".join(found)[:1500]]
    return sent, []


@pytest.mark.parametrize("role", ROLES)
def test_the_api_answers_no_server_error_and_only_documented_statuses(app, session, role):
    world = build_world(session)
    session.commit()
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    started = time.monotonic()
    cases, failures = 0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        headers = {}
        if role != "anonymous":
            # A fresh token per operation: fuzzing DELETE /me/tokens/{id} may revoke the one before.
            headers["Authorization"] = "Bearer " + create_api_token(session, world.users[role], "fuzz")[1]
            session.commit()
        for mode, examples in ((schemathesis.GenerationMode.POSITIVE, POSITIVE_EXAMPLES),
                               (schemathesis.GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)):
            sent, found = _fuzz_operation(operation, mode, examples, headers)
            cases += sent
            failures += found
    print(f"\nfuzz {role}: {cases} cases in {time.monotonic() - started:.1f}s, {len(failures)} failures")
    assert failures == [], "\n\n".join(failures)
