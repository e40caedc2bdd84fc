"""Staff: the roster (stations, officers, volunteer teams, posts) and patrol group formation."""
