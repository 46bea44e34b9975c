"""qualcode: offline, reproducible qualitative interview analysis.

The library works without the command line: open a project with :func:`qualcode.store.open_store`,
ingest with :func:`qualcode.ingest.ingest_paths`, and so on.
"""

__version__ = "0.1.0"
