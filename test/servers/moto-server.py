"""
moto 5.2.1 as an S3 server that verifies SigV4 signatures, for the tests
(started by moto-server.ts; not a product file).

    python3 moto-server.py <bucket> <region> <state directory> [--stock]

Binds 127.0.0.1 on a free port, creates an IAM user whose inline policy
allows s3:*, an access key for it and the bucket, then turns moto's IAM
authentication on for every later request (INITIAL_NO_AUTH_ACTION_COUNT 0)
and prints one line: {"port", "accessKeyId", "secretAccessKey"}. From then on
a request whose signature does not match the key's secret is refused
(403 SignatureDoesNotMatch), an unknown key id too (403 InvalidAccessKeyId).

Stock moto departs from S3 in ways the patches below repair (each says why);
--stock leaves them out, so a test can show each one is needed. What is not
repaired is declared in moto-server.ts (MOTO_GAPS).

Test hooks, outside S3's namespace (moto's own /moto-api/ is shut once
authentication is on, so no test can switch it off again):
  GET|DELETE /_stowage/requests  requests seen (method, decoded path, query names, a few headers, status)
  POST /_stowage/seed            {"keys": [...], "body": "..."}: small objects straight into the store
The process ends when its standard input closes (the parent went away, however
it died) or on SIGTERM, and removes its state directory (its HOME and TMPDIR).
"""

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import sys
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from werkzeug.serving import WSGIRequestHandler, make_server

from moto import settings
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.responses import BaseResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.s3.exceptions import S3AccessDeniedError, S3ClientError

bucket, region, state_directory = sys.argv[1:4]
stock = "--stock" in sys.argv[4:]

# Bootstrap requests go through unauthenticated; authentication starts after them.
settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")


def raw_target(response):
    """The path and query exactly as the client sent them (werkzeug keeps the request line in RAW_URI)."""
    raw = urlsplit(getattr(response, "_stowage_raw_uri", None) or response.uri)
    return raw.path, raw.query


def sign(secret, credential, text):
    """SigV4's signature of `text` for the scope in `credential` (key-id/date/region/service/aws4_request)."""
    _, date, scope_region, service = (credential.split("/") + ["", "", "", ""])[:4]
    key = ("AWS4" + secret).encode()
    for part in (date, scope_region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def iam_request_for(response, iam_request_cls, credential, signed_headers, signature):
    """
    moto's own IAM request object for a request signed outside the
    Authorization header: it finds the key (InvalidAccessKeyId when unknown),
    raises moto's errors and checks the user's policies.
    """
    headers = dict(response.headers.items())
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed_headers}, Signature={signature}"
    )
    return iam_request_cls(
        account_id=response.current_account,
        method=response.method,
        path=response.path,
        data=response.data,
        body=response.raw_body,
        headers=headers,
        action=response._get_action(),
    )


def expired(message):
    error = S3AccessDeniedError()
    error.message = message
    return error


def verify_presigned(response, iam_request_cls, resource, query):
    """
    A presigned URL (X-Amz-Signature in the query): stock moto looks for an
    Authorization header and fails with a 500. Checked as S3 does: the
    signature over the canonical request (the query without
    X-Amz-Signature, UNSIGNED-PAYLOAD), then the expiry, then the policies.
    """
    params = dict(parse_qsl(query, keep_blank_values=True))
    credential = params.get("X-Amz-Credential", "")
    signed_headers = params.get("X-Amz-SignedHeaders", "")
    signature = params["X-Amz-Signature"]
    request = iam_request_for(response, iam_request_cls, credential, signed_headers, signature)
    path, _ = raw_target(response)
    pairs = sorted(
        tuple(pair.partition("=")[::2]) for pair in query.split("&") if pair and not pair.startswith("X-Amz-Signature=")
    )
    canonical_headers = "".join(
        f"{name}:{' '.join(str(response.headers.get(name, '')).split())}\n" for name in signed_headers.split(";")
    )
    canonical = "\n".join(
        [
            response.method,
            path,
            "&".join(f"{k}={v}" for k, v in pairs),
            canonical_headers,
            signed_headers,
            params.get("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"),
        ]
    )
    amz_date = params.get("X-Amz-Date", "")
    scope = credential.partition("/")[2]
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    secret = request._access_key.create_credentials().secret_key
    if not hmac.compare_digest(sign(secret, credential, to_sign), signature):
        request._raise_signature_does_not_match()
    signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    if datetime.now(timezone.utc) > signed_at + timedelta(seconds=int(params.get("X-Amz-Expires", "0"))):
        raise expired("Request has expired")
    request.check_action_permitted(resource)


def verify_post_policy(response, iam_request_cls, resource, form):
    """
    A browser POST (policy and signature as form fields): stock moto fails
    with a 500 under authentication. The signature over the policy and the
    expiry are checked as S3 does; the policy's conditions are not (MOTO_GAPS).
    """
    credential = form.get("x-amz-credential", "")
    request = iam_request_for(response, iam_request_cls, credential, "", form["x-amz-signature"])
    secret = request._access_key.create_credentials().secret_key
    if not hmac.compare_digest(sign(secret, credential, form["policy"]), form["x-amz-signature"]):
        request._raise_signature_does_not_match()
    policy = json.loads(base64.b64decode(form["policy"]))
    if datetime.now(timezone.utc) > datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")):
        raise expired("Invalid according to Policy: Policy expired.")
    request.check_action_permitted(resource)


def check_payload_hash(response):
    """
    moto signs with the payload hash the client declares and never hashes the
    body, so a body changed after signing is stored. S3 compares them.
    """
    declared = str(response.headers.get("x-amz-content-sha256", ""))
    if re.fullmatch("[0-9a-f]{64}", declared) and hashlib.sha256(response.raw_body or b"").hexdigest() != declared:
        raise S3ClientError(
            "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."
        )


def patch_authentication():
    """
    Stock moto checks the signature against a URL it rebuilds from the
    decoded path, re-encoded by werkzeug, which leaves "+ & ; = ' ( ) * ! @ %"
    as they are: a client that encodes them (S3 requires it, and every SDK
    does) gets SignatureDoesNotMatch, and so does a listing whose prefix holds
    a space or "/" encoded in the query. S3 signs the bytes the client sent: the
    path and query are taken from the raw request line instead. Requests signed
    in the query (presigned URLs) or in a POST form are verified too, and an
    anonymous request is refused with 403 AccessDenied as S3 does for a bucket
    without a public policy.
    """
    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authenticate(self, iam_request_cls, resource="*"):
        if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
            return original(self, iam_request_cls, resource)
        path, query = raw_target(self)
        if "Authorization" not in self.headers:
            if "X-Amz-Signature=" in query:
                return verify_presigned(self, iam_request_cls, resource, query)
            form = {k.lower(): v for k, v in (self.form_data or {}).items()}
            if "policy" in form and "x-amz-signature" in form:
                return verify_post_policy(self, iam_request_cls, resource, form)
            raise S3AccessDeniedError()
        uri = self.uri
        parts = urlsplit(uri)
        self.uri = urlunsplit((parts.scheme, parts.netloc, path, query, ""))
        try:
            original(self, iam_request_cls, resource)
        finally:
            self.uri = uri
        check_payload_hash(self)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate

    setup_class = BaseResponse.setup_class

    def remember_raw_uri(self, request, full_url, headers, *args, **kwargs):
        environ = getattr(request, "environ", None) or {}
        self._stowage_raw_uri = environ.get("RAW_URI")
        return setup_class(self, request, full_url, headers, *args, **kwargs)

    BaseResponse.setup_class = remember_raw_uri


if not stock:
    patch_authentication()

app = DomainDispatcherApplication(create_backend_app)
requests = []
auth_on = threading.Event()
RECORDED_HEADERS = [
    "content-length", "content-type", "x-amz-copy-source", "x-amz-copy-source-range",
    "x-amz-checksum-crc32", "x-amz-content-sha256", "content-encoding", "x-amz-meta-sha256",
    "x-amz-metadata-directive", "range", "x-amz-decoded-content-length",
]


def answer(start_response, status, body, content_type="application/json"):
    data = body.encode() if isinstance(body, str) else body
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
    return [data]


def seed(environ):
    from moto.s3.models import s3_backends

    length = int(environ.get("CONTENT_LENGTH") or 0)
    spec = json.loads(environ["wsgi.input"].read(length))
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    body = spec["body"].encode()
    for key in spec["keys"]:
        backend.put_object(bucket, key, body)
    return json.dumps({"created": len(spec["keys"])})


def wsgi_path(environ):
    # PEP 3333 hands the decoded path over as latin-1 code points.
    return environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")


RESPONSE_OVERRIDES = ["content-type", "content-language", "expires", "cache-control", "content-disposition", "content-encoding"]


def response_overrides(method, query):
    """
    S3 answers a signed GetObject with the headers its response-* query
    parameters name (presigned downloads rely on response-content-disposition);
    moto ignores them.
    """
    if method not in ("GET", "HEAD"):
        return {}
    params = dict(parse_qsl(query, keep_blank_values=True))
    return {name: params["response-" + name] for name in RESPONSE_OVERRIDES if "response-" + name in params}


def application(environ, start_response):
    path = wsgi_path(environ)
    method = environ["REQUEST_METHOD"]
    if path == "/_stowage/requests":
        if method == "DELETE":
            requests.clear()
        return answer(start_response, "200 OK", json.dumps(requests))
    if path == "/_stowage/seed" and method == "POST":
        return answer(start_response, "200 OK", seed(environ))
    if path.startswith("/moto-api/") and auth_on.is_set():
        return answer(start_response, "403 Forbidden", json.dumps({"error": "moto-api is shut in these tests"}))

    headers = {}
    for name in RECORDED_HEADERS:
        key = name.upper().replace("-", "_")
        value = environ.get(key if key in ("CONTENT_LENGTH", "CONTENT_TYPE") else "HTTP_" + key)
        if value:
            headers[name] = value
    query = [k for k, _ in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)]
    entry = {"method": method, "path": path, "query": query, "headers": headers}
    requests.append(entry)

    overrides = {} if stock else response_overrides(method, environ.get("QUERY_STRING", ""))

    def recording_start_response(status, response_headers, exc_info=None):
        entry["status"] = int(status.split(" ", 1)[0])
        if overrides and entry["status"] in (200, 206):
            response_headers = [(k, v) for k, v in response_headers if k.lower() not in overrides]
            response_headers += list(overrides.items())
        return start_response(status, response_headers, exc_info)

    try:
        return app(environ, recording_start_response)
    except BaseException:
        entry["status"] = 500
        raise


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


server = make_server("127.0.0.1", 0, application, threaded=True, request_handler=QuietHandler)
port = server.server_port
threading.Thread(target=server.serve_forever, daemon=True).start()


def bootstrap():
    """The user, its key and the bucket, made through moto's own APIs with boto3."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap", region_name=region
    )
    endpoint = f"http://127.0.0.1:{port}"
    iam = session.client("iam", endpoint_url=endpoint)
    iam.create_user(UserName="stowage-tests")
    iam.put_user_policy(
        UserName="stowage-tests",
        PolicyName="s3-everything",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName="stowage-tests")["AccessKey"]
    session.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return key


key = bootstrap()
requests.clear()
settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
auth_on.set()


def stop(*_):
    shutil.rmtree(state_directory, ignore_errors=True)
    os._exit(0)


signal.signal(signal.SIGTERM, stop)
sys.stdout.write(
    json.dumps({"port": port, "accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"]}) + "\n"
)
sys.stdout.flush()
# The parent holds our stdin open for as long as it lives.
while sys.stdin.buffer.read(65536):
    pass
stop()
