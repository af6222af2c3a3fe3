# Two commands do everything: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DAGSTER_HOME := $(CURDIR)/.dagster_home

SAMPLE := $(CURDIR)/sample/tardis
DEMO_DAYS := 2024-01-01 2024-01-02
DEMO_VENUES := binance deribit
DEMO_INGEST := key:instrument_definitions or group:ticks
DEMO_DERIVED := group:candles or group:features or group:warehouse
DEMO_FEATURES := SELECT timestamp, history_bars, round(log_return_1, 5) AS r, \
	round(realized_vol_20, 3) AS vol_20, round(rsi_14, 1) AS rsi, round(macd, 2) AS macd \
	FROM warehouse.mft_1h WHERE date = DATE '2024-01-02' AND venue = 'deribit' \
	AND instrument_key = 'DERIBIT:PERPETUAL:BTC-USD' ORDER BY timestamp LIMIT 6
DEMO_QUERY := SELECT venue, instrument_key, count(*) AS bars, sum(trade_count) AS trades, \
	round(sum(quote_volume) / sum(volume), 2) AS vwap FROM warehouse.candles_1h \
	WHERE date = DATE '2024-01-01' GROUP BY ALL ORDER BY ALL

.PHONY: install demo test lint ui bench chaos clean live

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	ln -sf ../dagster.yaml $@

# Offline: a generated Tardis mirror stands in for the API; the real CLI materialises.
demo: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m tardis_local mirror $(SAMPLE) --from 2024-01-01 --to 2024-01-03 \
		$(foreach v,$(DEMO_VENUES),--venue $(v))
	@for day in $(DEMO_DAYS); do for venue in $(DEMO_VENUES); do \
		echo "== ingesting $$day|$$venue"; \
		TARDIS_MIRROR=$(SAMPLE) MARKET_DATA_ROOT=$(CURDIR)/data \
		$(BIN)/dagster asset materialize -m market_assets \
			--select "$(DEMO_INGEST)" --partition "$$day|$$venue" || exit 1; \
	done; done
	@# Candles after both days' ticks: the first day takes its late trades from the second.
	@for day in $(DEMO_DAYS); do for venue in $(DEMO_VENUES); do \
		echo "== candles and warehouse tables of $$day|$$venue"; \
		MARKET_DATA_ROOT=$(CURDIR)/data \
		$(BIN)/dagster asset materialize -m market_assets \
			--select "$(DEMO_DERIVED)" --partition "$$day|$$venue" || exit 1; \
	done; done
	@echo "== drawing the coverage heatmap of the sample days"
	MARKET_DATA_ROOT=$(CURDIR)/data $(BIN)/dagster asset materialize -m market_assets \
		--select coverage_heatmap \
		--config-json '{"ops": {"coverage_heatmap": {"config": {"last": "2024-01-02", "days": 2}}}}'
	MARKET_DATA_ROOT=$(CURDIR)/data $(BIN)/python -m resources
	@echo "== the warehouse (DuckDB): hourly bars of 2024-01-01"
	$(BIN)/python -c "import duckdb; duckdb.connect('data/market.duckdb', read_only=True).sql(\"$(DEMO_QUERY)\").show()"
	@echo "== the warehouse (DuckDB): BTC's hourly features on 2024-01-02"
	$(BIN)/python -c "import duckdb; duckdb.connect('data/market.duckdb', read_only=True).sql(\"$(DEMO_FEATURES)\").show()"
	@echo
	@echo "Open the UI on these partitions:"
	@echo "  DAGSTER_HOME=$(DAGSTER_HOME) TARDIS_MIRROR=$(SAMPLE) MARKET_DATA_ROOT=$(CURDIR)/data $(BIN)/dagster dev"
	@echo "  (or: make ui), then browse http://127.0.0.1:3000"

ui: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	TARDIS_MIRROR=$(SAMPLE) MARKET_DATA_ROOT=$(CURDIR)/data $(BIN)/dagster dev --host 127.0.0.1 --port $(or $(UI_PORT),3000)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The live service on this machine (README "Live bars"): the universe's feeds in, bars out.
live: $(STAMP)
	$(BIN)/python -m live serve

bench: $(STAMP)
	$(BIN)/python bench/materialize.py
	$(BIN)/python bench/ingest_trades.py
	$(BIN)/python bench/ingest_options_chain.py
	$(BIN)/python bench/candles.py
	$(BIN)/python bench/features.py
	$(BIN)/python bench/gap_report.py
	$(BIN)/python bench/reader.py
	$(BIN)/python bench/live.py

# The fault matrix against the real components (README, "Faults"); too long for make test.
chaos: $(STAMP)
	$(BIN)/python -m chaos

clean:
	rm -rf data sample $(DAGSTER_HOME)
