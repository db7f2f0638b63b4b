"""sanctl's configuration tree on configshell-fb: thin nodes over the service commands."""
