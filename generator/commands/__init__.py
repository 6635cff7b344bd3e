"""The staff commands (``kepu …``): check, build, serve, import/export, scaffold, stats, schema.

May import the core, ``generator.outputs`` and ``generator.mkdocs``; nothing imports it."""
