"""The classroom around a session: lessons and presenting them, saved sessions, where students
reach this server, QR codes."""
