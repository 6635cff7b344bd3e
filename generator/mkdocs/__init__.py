"""The thin MkDocs adapter: the plugin, the shell-page fill and the live preview.

The only package that imports MkDocs; it may import the core and ``generator.outputs``."""
