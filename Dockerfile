# One image for every environment: it runs this code location's gRPC server. Secrets
# (TARDIS_API_KEY, cloud credentials) come from the environment at run time, never
# from the image: nothing under .dockerignore's list is copied in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 dagster

WORKDIR /opt/market-data
COPY pyproject.toml README.md ./
COPY partitions/ partitions/
COPY resources/ resources/
COPY market_assets/ market_assets/
COPY market_reader/ market_reader/
COPY tardis_local/ tardis_local/
RUN pip install .

USER dagster
ENV DAGSTER_HOME=/home/dagster
EXPOSE 4000
CMD ["dagster", "code-server", "start", "--host", "0.0.0.0", "--port", "4000", \
     "--module-name", "market_assets", "--location-name", "market_data"]
