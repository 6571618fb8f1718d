"""Settings from the environment and runtime wiring (engines, Redis, queues, vendor clients)."""
