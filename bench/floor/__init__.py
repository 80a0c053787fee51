"""The floor: the least a Django + django-ninja server must do to take in one demand.

A reference for the intake benchmark (bench/intake.py), not part of the product: one POST endpoint that
validates the same JSON as `POST /api/v1/demands`, authenticates a bearer token and writes one row plus
one event in a transaction. Served by gunicorn with the product's gunicorn.conf.py, so the two differ
only in what the application does per request.
"""
