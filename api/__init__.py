"""HTTP service over the ``optimizer`` library (FastAPI, SQLAlchemy storage, API keys)."""
