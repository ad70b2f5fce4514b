"""The HTTP face, on the event loop: the routes (a module a noun) and what serves them: bodies
parsed in a worker, dependencies, middleware, the OpenAPI document, the menus' catalog."""
