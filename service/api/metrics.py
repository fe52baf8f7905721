"""Prometheus metrics, read at scrape time from the database and rq.

Workers run in other processes (and on other machines), so counters kept in their memory would
be lost or scattered. The database already records every outcome and stage duration, and rq
knows its queue depths: a custom collector turns those into metrics on each scrape, and every
API replica reports the same numbers.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

__all__ = ["EvidenciaCollector", "build_registry", "render_metrics", "STAGE_BUCKETS"]

log = logging.getLogger(__name__)

#: Seconds: a text PDF classifies in well under a second, a long scan OCRs for minutes.
STAGE_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)


class EvidenciaCollector(Collector):
    def collect(self):
        yield from self._documents()
        yield from self._queues()

    def _documents(self):
        from service.db import SessionLocal
        from service.domain.codes import DocumentStatus
        from service.domain.models import Document

        session = SessionLocal()
        try:
            by_status = dict(
                session.execute(
                    select(Document.status, func.count()).group_by(Document.status)
                ).all()
            )
            failures = session.execute(
                select(Document.error_code, func.count())
                .where(Document.status == DocumentStatus.error.value)
                .group_by(Document.error_code)
            ).all()
            histograms = {
                stage: self._histogram(session, column)
                for stage, column in (
                    ("wait", Document.wait_seconds),
                    ("extract", Document.extract_seconds),
                    ("classify", Document.classify_seconds),
                )
            }
        except Exception:
            log.warning("metrics: database unreachable", exc_info=True)
            return
        finally:
            session.close()

        g = GaugeMetricFamily("evidencia_documents", "Documents by status", labels=["status"])
        for status in DocumentStatus:
            g.add_metric([status.value], by_status.get(status.value, 0))
        yield g
        c = CounterMetricFamily(
            "evidencia_documents_processed", "Documents processed successfully"
        )
        c.add_metric([], by_status.get(DocumentStatus.done.value, 0))
        yield c
        f = CounterMetricFamily(
            "evidencia_document_failures", "Documents that ended in error", labels=["code"]
        )
        for code, count in failures:
            f.add_metric([code or "unknown"], count)
        yield f
        h = HistogramMetricFamily(
            "evidencia_stage_duration_seconds",
            "Seconds per pipeline stage (wait in queue, extract incl. OCR, classify)",
            labels=["stage"],
        )
        for stage, (buckets, total) in histograms.items():
            h.add_metric([stage], buckets=buckets, sum_value=total)
        yield h

    @staticmethod
    def _histogram(session, column):
        row = session.execute(
            select(
                func.count(column),
                func.coalesce(func.sum(column), 0.0),
                *[func.sum(case((column <= b, 1), else_=0)) for b in STAGE_BUCKETS],
            ).where(column.is_not(None))
        ).one()
        count, total, *cumulative = row
        buckets = [(str(b), int(n or 0)) for b, n in zip(STAGE_BUCKETS, cumulative, strict=True)]
        buckets.append(("+Inf", int(count or 0)))
        return buckets, float(total or 0.0)

    def _queues(self):
        from service.domain.dispatch import get_dispatcher

        try:
            queues, alive = get_dispatcher().stats()
            depth = GaugeMetricFamily(
                "evidencia_queue_depth", "Jobs waiting per rq queue", labels=["queue"]
            )
            running = GaugeMetricFamily(
                "evidencia_queue_started", "Jobs running per rq queue", labels=["queue"]
            )
            failed = GaugeMetricFamily(
                "evidencia_queue_failed", "Jobs in rq's failed registry", labels=["queue"]
            )
            for q in queues:
                depth.add_metric([q.name], q.waiting)
                running.add_metric([q.name], q.running)
                failed.add_metric([q.name], q.failed)
            workers = GaugeMetricFamily("evidencia_workers", "rq workers alive")
            workers.add_metric([], alive)
        except Exception:
            log.warning("metrics: Redis unreachable", exc_info=True)
            return
        yield from (depth, running, failed, workers)


def build_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EvidenciaCollector())
    return registry


def render_metrics(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
