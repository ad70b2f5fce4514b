"""HTTP and WebSocket routes; each module one noun."""
