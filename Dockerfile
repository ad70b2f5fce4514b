# The image runs the same wheel `pip install .` gives, its dependencies from the lock.
# The notebook widget's bundle first: the page's modules through esbuild, pinned by npm ci.
FROM node:20-slim AS bundle
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY static static
COPY backprop_playground/front backprop_playground/front
RUN npm run build

FROM python:3.11-slim AS wheel
WORKDIR /src
COPY . .
COPY --from=bundle /src/backprop_playground/bundle backprop_playground/bundle
RUN pip install --no-cache-dir --require-hashes -r requirements/run.txt \
    && pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels .

FROM python:3.11-slim
# Saved sessions go to the user's data folder (platformdirs): /data/backprop-playground here,
# a volume's place.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 NUMBA_CACHE_DIR=/srv/numba-cache \
    XDG_DATA_HOME=/data
COPY requirements/run.txt /tmp/run.txt
COPY --from=wheel /wheels /tmp/wheels
# The training loop is compiled here, into numba's cache, so no start pays for it.
RUN pip install --no-cache-dir --require-hashes -r /tmp/run.txt \
    && pip install --no-cache-dir --no-deps /tmp/wheels/*.whl \
    && rm -r /tmp/run.txt /tmp/wheels \
    && python -c "import app.worker.warmed" \
    && useradd --create-home --uid 10001 playground \
    && mkdir -p /data && chown playground /data
USER playground
WORKDIR /home/playground
VOLUME /data
EXPOSE 8000
CMD ["backprop-playground", "--host", "0.0.0.0", "--port", "8000"]
