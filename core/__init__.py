"""LibreNMS → NetBox import review: the product's core, shared by the pages, the RQ worker, the CLI and the tests.

Nothing here imports Streamlit. Clients are built from a `Settings` object and passed in.
"""
