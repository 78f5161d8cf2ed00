"""emtag host side: simulator, device tools and build helpers."""
