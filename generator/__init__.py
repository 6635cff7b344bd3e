"""kepu-calendar: campaign YAML → validated model → branded pages, feeds and open data.

Pipeline (one module per step): load → validate (convert) → model → branding →
pages / feeds / data → plugin (MkDocs adapter) and cli.
"""

__version__ = "0.1.0"
