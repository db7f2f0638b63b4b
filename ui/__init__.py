"""The admin web page, a Flask application (installed as sanappliance.ui): `create_app` in app.py, served over HTTPS
by `python3 -m sanappliance.ui serve`."""
