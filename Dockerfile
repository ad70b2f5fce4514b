FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 NUMBA_CACHE_DIR=/srv/numba-cache \
    BACKPROP_DATA_DIR=/data BACKPROP_TEMPLATES_DIR=/srv/templates BACKPROP_STATIC_DIR=/srv/static \
    BACKPROP_LESSONS_DIR=/srv/lessons
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY engine engine
COPY app app
COPY templates templates
COPY static static
COPY lessons lessons
# The training loop is compiled here, into numba's cache, so no start pays for it (from /,
# so it is the installed package that is compiled, the one the server runs).
RUN pip install --no-cache-dir . \
    && (cd / && python -c "import app.warmed") \
    && useradd --create-home --uid 10001 playground \
    && mkdir -p /data && chown playground /data
USER playground
EXPOSE 8000
CMD ["backprop-playground", "--host", "0.0.0.0", "--port", "8000"]
