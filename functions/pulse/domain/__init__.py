"""Business logic: takes and returns models, calls the data layer, never builds SQL."""
