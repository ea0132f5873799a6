#!/usr/bin/env python3
"""SpiffWorkflow side of bench/compare.sh: the 3-step approval workflow (承办 → 审核 → 批准).

Measured: for each of N instances, create a BpmnWorkflow from a BPMN process with three
userTasks in sequence, serialize it (BpmnWorkflowSerializer, JSON) and INSERT it into
SQLite; then for each of the three steps complete the ready user task, run the engine
steps, serialize and UPDATE the row. One commit per write, journal_mode=WAL and
synchronous=FULL, so one instance = 1 create + 3 steps = 4 durable writes.
Parsing the BPMN happens once, before the clock starts.

Usage: spiff_approval.py --instances N --db PATH
Prints: spiff: N instances in S.SSS s = R.R instances/s
"""
import argparse
import sqlite3
import time

from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="defs" targetNamespace="urn:tongban:bench">
  <bpmn:process id="approval" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="chengban" name="承办"/>
    <bpmn:userTask id="shenhe" name="审核"/>
    <bpmn:userTask id="pizhun" name="批准"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="chengban"/>
    <bpmn:sequenceFlow id="f2" sourceRef="chengban" targetRef="shenhe"/>
    <bpmn:sequenceFlow id="f3" sourceRef="shenhe" targetRef="pizhun"/>
    <bpmn:sequenceFlow id="f4" sourceRef="pizhun" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""
STEPS = ["chengban", "shenhe", "pizhun"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=500)
    ap.add_argument("--db", required=True)
    args = ap.parse_args()

    parser = BpmnParser()
    parser.add_bpmn_str(BPMN.encode("utf-8"), filename="approval.bpmn")
    spec = parser.get_spec("approval")
    serializer = BpmnWorkflowSerializer()

    db = sqlite3.connect(args.db, isolation_level=None)  # explicit BEGIN/COMMIT below
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS instances(id INTEGER PRIMARY KEY, state TEXT)")

    t0 = time.perf_counter()
    for _ in range(args.instances):
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        db.execute("BEGIN")
        row_id = db.execute("INSERT INTO instances(state) VALUES (?)",
                            (serializer.serialize_json(wf),)).lastrowid
        db.execute("COMMIT")
        for step in STEPS:
            ready = wf.get_tasks(state=TaskState.READY, manual=True)
            assert [t.task_spec.name for t in ready] == [step], ready
            ready[0].run()
            wf.do_engine_steps()
            db.execute("BEGIN")
            db.execute("UPDATE instances SET state = ? WHERE id = ?",
                       (serializer.serialize_json(wf), row_id))
            db.execute("COMMIT")
        assert wf.is_completed()
    secs = time.perf_counter() - t0
    db.close()
    n = args.instances
    print(f"spiff: {n} instances in {secs:.3f} s = {n / secs:.1f} instances/s")


if __name__ == "__main__":
    main()
