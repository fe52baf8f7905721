# One image, two roles: `serve` (API and pages) or `worker` (rq worker).
#   docker build -t evidencia .
#   docker run -p 8000:8000 -e EVIDENCIA_DATABASE_URL=... -e EVIDENCIA_REDIS_URL=... \
#              -e EVIDENCIA_SECRET_KEY=... evidencia serve --host 0.0.0.0
#   docker run -e EVIDENCIA_DATABASE_URL=... -e EVIDENCIA_REDIS_URL=... evidencia worker
# Build arguments:
#   BASE         a Debian 12 image (default debian:bookworm-slim; scripts/container-check passes
#                one made by debootstrap where no registry answers)
#   LIBREOFFICE  0 (default) leaves LibreOffice out (578 MB): a DOC or RTF upload ends in error
#                with a Spanish message asking for DOCX or PDF, and the upload pages do not offer
#                them; 1 converts DOC and RTF uploads with LibreOffice (+275 MB: 853 MB in all)
# The system packages come from scripts/setup, the one list for every way of running evidencia.
ARG BASE=debian:bookworm-slim

# ---- common: Debian's slim rules (no docs, man pages or translations), also for a plain base
FROM ${BASE} AS base
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
RUN printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
        'path-exclude /usr/share/locale/*' 'path-exclude /usr/share/lintian/*' \
        > /etc/dpkg/dpkg.cfg.d/evidencia-slim \
    && printf 'Acquire::Languages "none";\n' > /etc/apt/apt.conf.d/evidencia-no-languages

# ---- builder: compilers and headers, the venv with the project and the spaCy model
FROM base AS builder
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends python3 python3-venv python3-dev \
       build-essential >/dev/null \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The code and the set-up script (.dockerignore keeps the rest out), in one layer.
COPY . ./
# PyPI by default (--build-arg PIP_INDEX_URL=... for a mirror). Behind a TLS-inspecting proxy,
# hand pip the proxy's CA bundle as a build secret: --secret id=pip-ca,src=/path/to/bundle.crt
ARG PIP_INDEX_URL=https://pypi.org/simple PIP_DEFAULT_TIMEOUT=60
RUN --mount=type=secret,id=pip-ca \
    if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi; \
    ./scripts/setup --image --python-only
# Some wheels ship their C extensions with debug symbols (spaCy's 128 MB are 97 MB of them):
# strip those, but never a library auditwheel rewrote with patchelf (vendored `*.libs`, or a
# RUNPATH), which strip corrupts. Nothing imports the packages' own `tests` folders; pip and
# setuptools are not needed to run. Bytecode stays: it is what makes start-up fast. The import
# at the end proves the trimmed venv still loads.
RUN find .venv -name '*.so' -type f -not -path '*.libs/*' | while read -r so; do \
        readelf -S "$so" | grep -q '\.debug_info' && ! readelf -d "$so" | grep -q RUNPATH \
            && strip --strip-debug "$so"; \
    done; \
    find .venv -type d -name tests -prune -exec rm -rf {} + \
    && .venv/bin/python -m pip uninstall -q -y pip setuptools \
    && .venv/bin/evidencia --help >/dev/null \
    && .venv/bin/python -c "import extractors, classifiers, PIL.Image, pillow_heif, pypdfium2, lxml.etree, psycopg, spacy; spacy.load('es_core_news_sm')"

# ---- runtime: the system packages the service calls, the venv, a non-root user
FROM base AS runtime
ARG LIBREOFFICE=0
COPY scripts/setup /tmp/setup/scripts/setup
RUN /tmp/setup/scripts/setup --image --system-only $([ "$LIBREOFFICE" = 1 ] || echo --without-libreoffice) \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log /tmp/setup \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin evidencia \
    && mkdir -p /data && chown evidencia:evidencia /data
COPY --from=builder /app/.venv /app/.venv
COPY scripts/healthcheck /app/healthcheck
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 OMP_THREAD_LIMIT=1 EVIDENCIA_DATA_DIR=/data
USER evidencia
WORKDIR /app
VOLUME /data
EXPOSE 8000
# serve: /healthz answers; worker: registered in Redis with a live process (scripts/healthcheck).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["/app/healthcheck"]
ENTRYPOINT ["evidencia"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
