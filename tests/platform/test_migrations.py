"""Alembic owns the schema: it builds from nothing, tears down, rebuilds, and matches the models exactly."""

import uuid

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from backend.cli import alembic_config
from backend.core.db import make_engine
from backend.models import metadata
from tests.conftest import create_scratch_database, drop_scratch_database


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
