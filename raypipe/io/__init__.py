"""Reading inputs: listing sources and decoding image bytes."""
