"""``python -m resources``: what the lake at ``MARKET_DATA_ROOT`` holds, one line a partition."""

from resources.environment import Environment
from resources.lake import ParquetLake, describe_lake

environment = Environment.read()
lake = ParquetLake(environment.lake_root, anonymous=bool(environment.storage_emulator_host))
print(f"lake {lake.root}")
print(f"{'asset':<26} {'date':<10} {'venue':<16} {'files':>5} {'rows':>10} {'bytes':>12}")
for row in describe_lake(lake):
    print(
        f"{row['asset']:<26} {row['date']:<10} {row['venue']:<16} "
        f"{row['files']:>5} {row['rows']:>10,} {row['bytes']:>12,}"
    )
