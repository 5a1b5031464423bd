"""Agents, missions, the daemon and the ``swarm`` command line."""
