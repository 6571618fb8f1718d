"""Channel adapters: verify, parse and send for each way a consumer reaches a center."""
