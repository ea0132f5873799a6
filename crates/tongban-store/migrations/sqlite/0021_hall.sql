-- Issue #18: the hall. Appointment slots per hall and item (materialised from the hall's
-- day template when first asked for; capacity enforced by a conditional UPDATE of
-- `booked`), appointments, queue tickets numbered per hall/day/category, the hall's own
-- waiting-time records, and parcel tracking events of cases.
CREATE TABLE hall_slots (
    id INTEGER PRIMARY KEY,
    hall_id BIGINT NOT NULL REFERENCES halls(id),
    impl_code TEXT NOT NULL,
    day TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    booked BIGINT NOT NULL DEFAULT 0,
    UNIQUE (hall_id, impl_code, day, start_time)
);
CREATE TABLE appointments (
    id INTEGER PRIMARY KEY,
    slot_id BIGINT NOT NULL REFERENCES hall_slots(id),
    user_id BIGINT NOT NULL,
    booked_by TEXT NOT NULL,
    impl_code TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    reminded BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX appointments_by_user ON appointments(user_id, status);
CREATE INDEX appointments_by_slot ON appointments(slot_id, status);
CREATE TABLE hall_ticket_counters (
    hall_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    category TEXT NOT NULL,
    n BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (hall_id, day, category)
);
CREATE TABLE hall_tickets (
    id INTEGER PRIMARY KEY,
    hall_id BIGINT NOT NULL REFERENCES halls(id),
    day TEXT NOT NULL,
    category TEXT NOT NULL,
    number BIGINT NOT NULL,
    label TEXT NOT NULL,
    impl_code TEXT NOT NULL,
    appointment_id BIGINT,
    slot_starts_at TEXT,
    user_id BIGINT,
    status TEXT NOT NULL,
    window_id BIGINT,
    target_window_id BIGINT,
    issued_at TEXT NOT NULL,
    called_at TEXT,
    served_at TEXT,
    done_at TEXT,
    calls BIGINT NOT NULL DEFAULT 0,
    case_no TEXT,
    UNIQUE (hall_id, day, category, number)
);
CREATE INDEX hall_tickets_queue ON hall_tickets(hall_id, status, day);
CREATE UNIQUE INDEX hall_tickets_appointment ON hall_tickets(appointment_id) WHERE appointment_id IS NOT NULL;
CREATE TABLE hall_records (
    id INTEGER PRIMARY KEY,
    hall_id BIGINT NOT NULL,
    ticket_id BIGINT NOT NULL,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    detail TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    UNIQUE (ticket_id, rule)
);
CREATE TABLE delivery_events (
    id INTEGER PRIMARY KEY,
    case_no TEXT NOT NULL,
    department_id BIGINT NOT NULL,
    waybill TEXT NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (waybill, status, at)
);
CREATE INDEX delivery_events_by_case ON delivery_events(case_no, at);
