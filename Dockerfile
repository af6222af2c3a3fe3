# One image for every environment: it runs this code location's gRPC server (and the
# live service, from the same packages). Secrets (TARDIS_API_KEY, cloud credentials)
# come from the environment at run time, never from the image: nothing under
# .dockerignore's list is copied in, and no ENV or ARG holds one.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A numeric uid, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
RUN groupadd --gid 10001 dagster \
    && useradd --create-home --uid 10001 --gid 10001 dagster

WORKDIR /opt/market-data
# Exactly the packages pyproject.toml installs (tests/unit/test_deploy.py checks it).
COPY pyproject.toml README.md ./
COPY partitions/ partitions/
COPY resources/ resources/
COPY market_assets/ market_assets/
COPY market_reader/ market_reader/
COPY tardis_local/ tardis_local/
COPY live/ live/
COPY exchange_local/ exchange_local/
RUN pip install . && rm -rf build

# From here on nothing runs as root; the installed code stays owned by root (read-only).
USER 10001:10001
ENV DAGSTER_HOME=/home/dagster
EXPOSE 4000
CMD ["dagster", "code-server", "start", "--host", "0.0.0.0", "--port", "4000", \
     "--module-name", "market_assets", "--location-name", "market_data"]
