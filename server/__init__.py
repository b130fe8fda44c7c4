"""The edittrace language server: suggestions, their fate, ratings, the edit stream.

``edittrace lsp`` (``server.cli``) runs ``server.app.create_server()`` on stdio.
"""
