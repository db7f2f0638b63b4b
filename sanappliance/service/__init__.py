"""Service commands: what every front end (shell, API, web page) calls. Each takes an Env first, validates the whole
new state, then changes the system through the Env's adapters; it never prints and raises only SanError."""
