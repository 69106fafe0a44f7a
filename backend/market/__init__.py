"""The market as the matcher sees it: rows adapted to the matching library's dataclasses, and round snapshots."""
