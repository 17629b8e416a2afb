"""Index versions on disk: artefacts, atomic publication, build, nightly rebuild, hot reload."""
