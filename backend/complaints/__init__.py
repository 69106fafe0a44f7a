"""Complaints from applicants and interns about a project or an organisation, handled by staff as cases."""
