"""MCP server scanning: definitions (:mod:`.definitions`), text detectors (:mod:`.text`), look-alike names
(:mod:`.names`), what a server is for (:mod:`.purpose`), per-tool findings (:mod:`.tools`), rug pulls
(:mod:`.drift`) and the scanner that puts them together (:mod:`.scanner`)."""
