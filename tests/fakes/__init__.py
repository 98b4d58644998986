"""Local stand-ins for the outside services briefbot talks to (loopback only)."""
