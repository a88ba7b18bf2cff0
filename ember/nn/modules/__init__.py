"""Layer families, one file each (``ember.nn`` re-exports their classes)."""
