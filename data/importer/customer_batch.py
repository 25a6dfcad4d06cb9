"""Writing a batch of customer rows: parse, skip people already here, insert the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from data.importer.batch import BatchWriter, RowInput
from data.importer.parse import CustomerRecord, parse_customer
from data.importer.people import Known, insert_customers, load_customer_index


class CustomerBatch(BatchWriter):
    def write(self, rows: Sequence[RowInput]) -> None:
        records = self.parse(rows, parse_customer)
        index = load_customer_index(
            self.conn, business_id=self.actor.business_id, people=[r.person for r in records]
        )
        fresh = []
        for record in records:
            person = record.person
            if index.find(person) is not None:
                self.report.skipped_duplicates += 1
                continue
            index.add(Known.pending(person))
            fresh.append(self._values(record))
        insert_customers(
            self.conn, business_id=self.actor.business_id, rows=fresh, now=self.ctx.now
        )
        self.report.created["customers"] += len(fresh)
        self.growing.wrote("customers", len(fresh))

    def _values(self, record: CustomerRecord) -> dict[str, Any]:
        person, now = record.person, self.ctx.now
        return {
            "external_id": person.external_id,
            "import_key": person.import_key,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "phone": person.phone,
            "email": person.email,
            "notes": record.notes,
            "tags": list(record.tags),
            "sms_opt_in": record.sms_opt_in,
            "sms_opt_in_at": now if record.sms_opt_in else None,
            "email_opt_in": record.email_opt_in,
            "email_opt_in_at": now if record.email_opt_in else None,
        }
