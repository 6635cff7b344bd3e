"""What the site is made of: the one URL layout (site.py), pages, feeds, open data and search.

Imports the core (``generator``) only; never ``generator.mkdocs`` or ``generator.commands``."""
