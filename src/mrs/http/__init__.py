"""HTTP plumbing shared by every domain's routes: app state access, errors, responses."""
