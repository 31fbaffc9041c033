"""huggingface_hub.hf_hub_download in one long-lived process, timed inside it
(the interpreter and the import are not counted). One JSON request per stdin
line: {"repo", "path", "revision", "cache_dir"}; one JSON answer per line:
{"ms", "path"} or {"error"}."""
import json
import sys
import time

from huggingface_hub import hf_hub_download

print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    try:
        start = time.perf_counter()
        path = hf_hub_download(
            req["repo"], req["path"], revision=req["revision"], cache_dir=req["cache_dir"], token=False
        )
        print(json.dumps({"ms": (time.perf_counter() - start) * 1000, "path": path}), flush=True)
    except Exception as err:  # reported to the bench, which fails the side
        print(json.dumps({"error": repr(err)[:500]}), flush=True)
