"""Templates, static assets and message catalogues for internmatch's server-rendered pages."""
