"""The demos behind ``agent-security demo NAME``: the catalogue (``demo --list``), plain-text tables and a
progress bar for every distribution's demo, and the core's own quick and fleet demos."""
