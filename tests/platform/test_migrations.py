"""Alembic owns the schema: it builds from nothing, tears down, rebuilds, and matches the models exactly."""

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import Session

from backend.cli import alembic_config
from backend.core.db import make_engine
from backend.models import metadata
from backend.placements.models import MatchRun
from tests.conftest import IS_POSTGRES, create_scratch_database, drop_scratch_database, migrated_database
from tests.factories import make_scheme


def test_upgrade_downgrade_upgrade_and_no_drift_between_models_and_migrations():
    name = f"internmatch_mig_{uuid.uuid4().hex[:8]}"
    url = create_scratch_database(name)
    engine = make_engine(url)
    try:
        config = alembic_config(url)
        command.upgrade(config, "head")
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())

        command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        command.upgrade(config, "head")
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
        assert diff == [], f"models and migrations differ (write a migration): {diff}"
    finally:
        engine.dispose()
        drop_scratch_database(name)


@pytest.mark.skipif(not IS_POSTGRES, reason="column compression is PostgreSQL's (set DATABASE_URL); SQLite has none")
def test_a_rounds_frozen_inputs_are_stored_with_lz4_and_read_back_whole():
    snapshot = {"applicants": [{"id": str(k), "statement": "I would like to learn curation. " * 40}
                               for k in range(300)]}
    with migrated_database("internmatch_lz4") as (_url, engine):
        with Session(engine) as session:
            scheme = make_scheme(session)
            session.add(MatchRun(scheme_id=scheme.id, mode="optimal", input_snapshot=snapshot, parameters={}))
            session.commit()
        with engine.connect() as conn:
            methods = conn.execute(text(
                "SELECT attname, attcompression FROM pg_attribute "
                "WHERE attrelid = 'match_run'::regclass AND attname IN ('input_snapshot', 'parameters')")).all()
            stored = conn.execute(text("SELECT pg_column_compression(input_snapshot) FROM match_run")).scalar_one()
            read = conn.execute(MatchRun.__table__.select()).mappings().one()
    assert dict(methods) == {"input_snapshot": "l", "parameters": "l"}
    assert stored == "lz4"
    assert read["input_snapshot"] == snapshot
