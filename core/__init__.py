"""LibreNMS → NetBox import review: the product's core, shared by the pages, the RQ worker, the CLI and the tests.

Nothing here imports Streamlit. Clients are built from a `Settings` object and passed in. Data flows one way:
LibreNMS (`librenms`) → the review (`review`, with the `netbox` index and `mapping`) → `importer` → NetBox;
`search` is the pipeline that builds a review, `csvio` the CSV round trip, `jobs` the queue, `cli` the
command line. What the code relies on from the LibreNMS API is in docs/librenms-api.md.
"""
