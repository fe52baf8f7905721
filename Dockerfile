# One image, two roles: `serve` (API and pages) or `worker` (rq worker).
#   docker build -t evidencia .
#   docker run -p 8000:8000 -e EVIDENCIA_DATABASE_URL=... -e EVIDENCIA_REDIS_URL=... evidencia serve --host 0.0.0.0
#   docker run -e EVIDENCIA_DATABASE_URL=... -e EVIDENCIA_REDIS_URL=... evidencia worker
FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive PYTHONUNBUFFERED=1 OMP_THREAD_LIMIT=1 \
    EVIDENCIA_DATA_DIR=/data
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scripts ./scripts
COPY service ./service
COPY extractors ./extractors
COPY classifiers ./classifiers
COPY queue ./queue
COPY samples ./samples
# The same set-up script the README's commands use (runtime profile: no browser, no test tools).
RUN ./scripts/setup --runtime && rm -rf /var/lib/apt/lists/* /root/.cache
VOLUME /data
EXPOSE 8000
ENTRYPOINT ["/app/.venv/bin/evidencia"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
