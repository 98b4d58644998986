"""Platform adapters: each turns its platform's updates into `Incoming`s for the core."""
