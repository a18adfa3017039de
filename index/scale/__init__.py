"""Large content folders: lazy loading, the file store, analysis in worker processes."""
