"""Release tooling: archives, versions and changelog, comparing builds, the citation file."""
