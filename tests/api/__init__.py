"""Tests of the HTTP service (on SQLite and, where PATROL_TEST_POSTGRES_URL is set, PostgreSQL)."""
