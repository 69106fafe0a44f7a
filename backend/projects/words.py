"""A project put into words in the page language: the helpers the ngo/, staff/ and schemes/ templates share."""

from backend.projects import catalogue
from backend.projects.lifecycle import STATUS_NAMES
from backend.projects.models import ProjectStatus

STATUS_COLOURS = {
    "draft": "grey", "submitted": "blue", "under_assessment": "light-blue", "returned": "orange",
    "approved": "green", "rejected": "red", "open": "turquoise", "closed": "purple", "completed": "green",
}


def status_name(status: str) -> str:
    name = STATUS_NAMES.get(ProjectStatus(status))
    return str(name) if name is not None else status


def common_words() -> dict:
    return dict(status_name=status_name, status_colours=STATUS_COLOURS, sector_name=catalogue.sector_name,
                education_name=catalogue.education_name, language_requirements=catalogue.language_requirements,
                is_gba=catalogue.is_gba, language_name=catalogue.language_name)
