"""Plumbing shared by every domain: settings, database, templating, i18n, errors. No business rules."""
