# health_pipeline: the Dagster webserver and daemon over one shared volume (/data).
# Not built or run in this project's CI (no Docker there); see deploy/README.md.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/data/dagster_home \
    HEALTH_PIPELINE_CONFIG=/data/health-pipeline.toml \
    DAGSTER_EVENT_BATCH_SIZE=1000 \
    DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=true

RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY health_pipeline ./health_pipeline
RUN uv sync --frozen --no-dev --no-editable --compile-bytecode && rm -rf /root/.cache
ENV PATH=/app/.venv/bin:$PATH

COPY deploy/docker/entrypoint.sh /usr/local/bin/health-pipeline-entrypoint
RUN chmod 755 /usr/local/bin/health-pipeline-entrypoint \
    && useradd --create-home --uid 1000 health && mkdir -p /data && chown health /data
USER health
VOLUME ["/data"]
EXPOSE 3000
ENTRYPOINT ["health-pipeline-entrypoint"]
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-m", "health_pipeline.definitions"]
