"""How big a run is: `smoke` takes a few seconds (the test suite runs it), `full` measures the issue's targets."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bench.datagen import Sizes


@dataclass(frozen=True)
class Profile:
    name: str
    wrk_s: float  # each wrk run
    organizations: int
    patents: int
    report_orgs: int  # SMEs with annual reports for 2020–2023
    batch_items: int  # per /deals/batch body
    batches: int
    freshness_writes: int  # at 50 writes/s
    first_deals: int  # the small data set progress is first timed at (the issue: 10k)
    sizes: Sizes  # the whole data set
    samples: int  # timed calls per latency figure
    pipeline_events: int

    def with_deals(self, deals: int) -> Profile:
        return replace(self, sizes=self.sizes.scaled_to(deals), first_deals=min(self.first_deals, deals // 2))


PROFILES = {
    "smoke": Profile("smoke", wrk_s=1, organizations=40, patents=4, report_orgs=5, batch_items=20, batches=1,
                     freshness_writes=10, first_deals=200, sizes=Sizes(1000, 500, 20, 20), samples=5,
                     pipeline_events=300),
    "full": Profile("full", wrk_s=10, organizations=1000, patents=50, report_orgs=300, batch_items=1000, batches=3,
                    freshness_writes=500, first_deals=10_000, sizes=Sizes(1_000_000, 500_000, 20_000, 20_000),
                    samples=50, pipeline_events=5000),
}
