"""FastAPI server for the Backprop Playground: REST steps, sessions, the stream, pages."""
