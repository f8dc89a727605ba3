#!/bin/sh
# moto's S3 server on :5000, with the buckets named in S3_BUCKETS (space-separated) created before
# it counts as ready: its health check asks for the first bucket.
set -eu
moto_server --host 0.0.0.0 --port 5000 &
server=$!
until curl -s -o /dev/null http://127.0.0.1:5000/; do sleep 0.3; done
for bucket in ${S3_BUCKETS:-}; do
  curl -fs -o /dev/null -X PUT "http://127.0.0.1:5000/$bucket"
done
echo "s3: moto on :5000, buckets: ${S3_BUCKETS:-none}"
wait "$server"
