"""A loopback stand-in for the SaaS APIs ooo-pipelines calls, in their real wire formats."""

from sandbox.core import Sandbox, SandboxServer, connection_env, make_sandbox, start_sandbox

__all__ = ["Sandbox", "SandboxServer", "connection_env", "make_sandbox", "start_sandbox"]
