"""Identity and access: users, roles, sessions, API tokens, CSRF, who is asking, and who may do what."""
