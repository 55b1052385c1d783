"""The native CRT (Debian's python3-awscrt) as a bench contender.

Usage: crt.py WORKLOAD HOST BUCKET ACCESS SECRET [ARGS]; prints {"seconds": ...}.
  get-memory KEY          GET, body discarded
  get-file KEY PATH       GET to a file
  put-file KEY PATH       PUT from a file
  small-put PREFIX COUNT SIZE / small-get PREFIX COUNT   many small objects, all at once
This awscrt takes the port from the scheme's default, so HOST must be on port 80 (443 with TLS).
With BENCH_CA naming a CA certificate file, it speaks https and verifies the server's certificate against
that CA alone (in place of the system's trust store).
"""
import json
import os
import sys
import time

from awscrt import auth, http, io, s3

workload, host, bucket, access, secret, *rest = sys.argv[1:]
event_loop_group = io.EventLoopGroup()
bootstrap = io.ClientBootstrap(event_loop_group, io.DefaultHostResolver(event_loop_group))
ca = os.environ.get("BENCH_CA")
tls = {}
if ca:
    tls_options = io.TlsContextOptions()  # verify_peer is on by default
    tls_options.override_default_trust_store_from_path(ca_filepath=ca)
    connection_options = io.ClientTlsContext(tls_options).new_connection_options()
    connection_options.set_server_name(host)
    tls = {"tls_mode": s3.S3RequestTlsMode.ENABLED, "tls_connection_options": connection_options}
client = s3.S3Client(
    bootstrap=bootstrap,
    region="us-east-1",
    **(tls or {"tls_mode": s3.S3RequestTlsMode.DISABLED}),
    credential_provider=auth.AwsCredentialsProvider.new_static(access, secret),
    part_size=8 * 1024 * 1024,
    throughput_target_gbps=10,
)


def request(method, key, **kwargs):
    headers = http.HttpHeaders([("Host", host)])
    if method == "PUT" and "body" in kwargs:
        body = kwargs.pop("body")
        headers.add("Content-Length", str(len(body)))
        import io as pyio

        req = http.HttpRequest(method, f"/{bucket}/{key}", headers, pyio.BytesIO(body))
    else:
        if "length" in kwargs:
            headers.add("Content-Length", str(kwargs.pop("length")))
        req = http.HttpRequest(method, f"/{bucket}/{key}", headers)
    kind = s3.S3RequestType.GET_OBJECT if method == "GET" else s3.S3RequestType.PUT_OBJECT
    return client.make_request(request=req, type=kind, **kwargs)


def discard(chunk, offset, **kwargs):
    pass


started = time.perf_counter()
if workload == "get-memory":
    request("GET", rest[0], on_body=discard).finished_future.result()
elif workload == "get-file":
    request("GET", rest[0], recv_filepath=rest[1]).finished_future.result()
elif workload == "put-file":
    request("PUT", rest[0], send_filepath=rest[1], length=os.path.getsize(rest[1])).finished_future.result()
elif workload == "small-put":
    prefix, count, size = rest[0], int(rest[1]), int(rest[2])
    data = bytes(size)
    futures = [request("PUT", f"{prefix}{i}", body=data).finished_future for i in range(count)]
    for future in futures:
        future.result()
elif workload == "small-get":
    prefix, count = rest[0], int(rest[1])
    futures = [request("GET", f"{prefix}{i}", on_body=discard).finished_future for i in range(count)]
    for future in futures:
        future.result()
else:
    sys.exit(f"unknown workload {workload}")
print(json.dumps({"seconds": time.perf_counter() - started}))
