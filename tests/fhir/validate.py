"""Validates what a live wardpage hub emits at /fhir with PyPI's
fhir.resources (the R4B models: see run-validate.sh for why), plus the
checks those models do not make: Task inv-1 (lastModified >= authoredOn),
the Task and Communication status and priority codes, meta.versionId and
meta.lastUpdated on every resource, searchset Bundles with self links.

    python validate.py BASE_URL API_KEY

It posts vital-signs sets for two of the demo hospital's patients (a NEWS2
of 7 or more and a 5, so that the hub raises reviews and pages), then reads
back every resource type the CapabilityStatement lists and validates each.
"""

import datetime
import json
import sys
import time
import urllib.error
import urllib.request

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.task import Task

MODELS = {
    "Bundle": Bundle,
    "CapabilityStatement": CapabilityStatement,
    "Communication": Communication,
    "Observation": Observation,
    "OperationOutcome": OperationOutcome,
    "Patient": Patient,
    "Task": Task,
}
TASK_STATUS = {"draft", "requested", "received", "accepted", "rejected", "ready",
               "cancelled", "in-progress", "on-hold", "failed", "completed",
               "entered-in-error"}
COMMUNICATION_STATUS = {"preparation", "in-progress", "not-done", "on-hold", "stopped",
                        "completed", "entered-in-error", "unknown"}
PRIORITY = {"routine", "urgent", "asap", "stat"}
OURS = "https://wardpage.nhs.example/fhir/CodeSystem/"

base, key = sys.argv[1].rstrip("/"), sys.argv[2]
failures = []
checked = {}


def call(method, path, body=None):
    req = urllib.request.Request(
        base + "/fhir/" + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/fhir+json"})
    try:
        with urllib.request.urlopen(req) as res:
            return res.status, json.load(res), res.headers
    except urllib.error.HTTPError as e:
        return e.code, json.load(e), e.headers


def fail(what, why):
    failures.append(f"{what}: {why}")


def instant(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def validate(r, where):
    kind = r.get("resourceType")
    model = MODELS.get(kind)
    if model is None:
        return fail(where, f"unexpected resourceType {kind!r}")
    try:
        model.model_validate(r)
    except Exception as e:  # the library's ValidationError, whatever its class
        return fail(f"{where} ({kind})", str(e).replace("\n", " ")[:600])
    checked[kind] = checked.get(kind, 0) + 1
    if kind not in ("Bundle", "OperationOutcome"):
        meta = r.get("meta", {})
        if not meta.get("versionId") or not meta.get("lastUpdated"):
            fail(where, "meta.versionId and meta.lastUpdated are required on every resource")
    if kind == "Bundle":
        if r.get("type") == "searchset" and not any(l["relation"] == "self" for l in r.get("link", [])):
            fail(where, "a searchset has a self link")
        for i, e in enumerate(r.get("entry", [])):
            validate(e["resource"], f"{where}.entry[{i}]")
    if kind == "Task":
        if r["status"] not in TASK_STATUS:
            fail(where, f"Task.status {r['status']!r}")
        if r.get("priority") not in PRIORITY:
            fail(where, f"Task.priority {r.get('priority')!r}")
        if r.get("intent") != "order":
            fail(where, "Task.intent is order")
        # inv-1: Last modified date must be greater than or equal to authored-on date.
        if "lastModified" in r and "authoredOn" in r and instant(r["lastModified"]) < instant(r["authoredOn"]):
            fail(where, "inv-1: lastModified before authoredOn")
        if r["status"] == "accepted" and "owner" not in r:
            fail(where, "an accepted task names its owner")
        codes = [c["code"] for c in r.get("businessStatus", {}).get("coding", [])]
        if not codes:
            fail(where, "businessStatus says our finer state")
    if kind == "Communication":
        if r["status"] not in COMMUNICATION_STATUS:
            fail(where, f"Communication.status {r['status']!r}")
        if r.get("priority") not in PRIORITY:
            fail(where, f"Communication.priority {r.get('priority')!r}")
    if kind == "Observation":
        codes = {c["code"] for c in r["code"]["coding"]}
        if "88330-6" in codes and "1104051000000101" not in codes:
            fail(where, "a NEWS2 Observation carries the SNOMED and LOINC codes")
        if "valueInteger" not in r and "dataAbsentReason" not in r and "component" not in r:
            fail(where, "an Observation has a value, components or a reason for none")


def q(code, value, unit):
    return {"code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "valueQuantity": {"value": value, "unit": unit,
                              "system": "http://unitsofmeasure.org", "code": unit}}


def vital_set(patient, resp, spo2, systolic, pulse, temp):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return {
        "resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85353-1"}]},
        "subject": {"reference": "Patient/" + patient},
        "effectiveDateTime": now.isoformat().replace("+00:00", "Z"),
        "component": [
            q("9279-1", resp, "/min"), q("59408-5", spo2, "%"),
            {"code": {"coding": [{"system": OURS + "breathing", "code": "air-or-oxygen"}]},
             "valueCodeableConcept": {"coding": [{"system": OURS + "breathing", "code": "air"}]}},
            q("8480-6", systolic, "mm[Hg]"), q("8462-4", 70, "mm[Hg]"), q("8867-4", pulse, "/min"),
            {"code": {"coding": [{"system": "http://loinc.org", "code": "67775-7"}]},
             "valueCodeableConcept": {"coding": [{"system": OURS + "acvpu", "code": "alert"}]}},
            q("8310-5", temp, "Cel"),
        ],
    }


# The hub loads a new key's account with its next roster reload.
for _ in range(200):
    if call("GET", "Patient?_count=1")[0] == 200:
        break
    time.sleep(0.05)
else:
    sys.exit("the hub never accepted the key")

status, cap, _ = call("GET", "metadata")
validate(cap, "metadata")
status, patients, _ = call("GET", "Patient?_count=5")
validate(patients, "Patient search")
ids = [e["resource"]["id"] for e in patients.get("entry", [])]
if len(ids) < 2:
    fail("Patient search", "the demo hospital has patients")
else:
    for p, values in zip(ids, [(26, 91, 98, 118, 38.5), (22, 94, 124, 105, 38.3)]):
        status, answer, headers = call("POST", "Observation", vital_set(p, *values))
        if status != 201:
            fail("POST Observation", f"{status} {answer}")
        validate(answer, "POST Observation answer")
    tx = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": vital_set(ids[-1], 18, 97, 130, 72, 36.8),
         "request": {"method": "POST", "url": "Observation"}}]}
    req = urllib.request.Request(base + "/fhir", method="POST", data=json.dumps(tx).encode(),
                                 headers={"Authorization": "Bearer " + key,
                                          "Content-Type": "application/fhir+json"})
    with urllib.request.urlopen(req) as res:
        validate(json.load(res), "transaction answer")
    status, p, headers = call("GET", "Patient/" + ids[0])
    validate(p, "Patient read")
    if not headers.get("ETag"):
        fail("Patient read", "an ETag")
    status, obs, _ = call("GET", f"Observation?patient={ids[0]}&code=88330-6")
    validate(obs, "Observation search")
status, tasks, _ = call("GET", "Task?_count=50")
validate(tasks, "Task search")
if not tasks.get("entry"):
    fail("Task search", "the sets posted raised reviews")
else:
    status, t, _ = call("GET", "Task/" + tasks["entry"][0]["resource"]["id"])
    validate(t, "Task read")
status, comms, _ = call("GET", "Communication?_count=50")
validate(comms, "Communication search")
if comms.get("entry"):
    status, c, _ = call("GET", "Communication/" + comms["entry"][0]["resource"]["id"])
    validate(c, "Communication read")
else:
    fail("Communication search", "a NEWS2 of 7 or more pages the registrar")
for bad in ["Task?status=busy", "Patient/nobody", "Observation?code=x"]:
    status, o, _ = call("GET", bad)
    validate(o, f"error for {bad}")
    if o.get("resourceType") != "OperationOutcome" or status < 400:
        fail(bad, f"an error is an OperationOutcome ({status})")

print("validated:", ", ".join(f"{k} {v}" for k, v in sorted(checked.items())))
if failures:
    print(f"{len(failures)} problems:")
    for f in failures:
        print("  " + f)
    sys.exit(1)
print("every resource valid")
