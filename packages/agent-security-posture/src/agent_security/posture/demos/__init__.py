"""The demos that span distributions and end in a posture report: ``agent-security demo guardian-posture``
(the original's ``examples/04-guardian-posture``) and ``agent-security demo full`` (``examples/05-full-spm``).
Each is registered only when the distributions it runs are installed (``agent-security-posture[demos]``)."""
