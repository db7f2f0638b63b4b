"""The admin web page, a Flask application (installed as sanappliance.ui)."""
