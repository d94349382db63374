"""The hook daemon: a warm pipeline on a user-only unix socket, so a hook call answers in milliseconds.

``agent-security serve`` (:mod:`.server`) keeps one ``AgentSecurity`` built from the user's config and the
shared SQLite store, and answers hook calls with :func:`agent_security.adapters.hooks.registry.answer_hook`.
``agent-security hook <host>`` (:mod:`.launch`, through the tiny console-script launcher of the core) asks
it first (:mod:`.client`, standard library only) and checks in-process whenever the daemon is down, stale
(:mod:`.freshness`), slow or answers anything malformed: never a pass. See ``docs/adapters/daemon.md``.
"""
