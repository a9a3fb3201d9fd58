"""Replays a dead-letter queue into the queue it serves, the way `aws sqs
start-message-move-task` does on AWS (the local emulator has no move tasks), but leaving
poison alone: a message the processor parked itself carries its reason (`errata_reason`) and
stays, listed, unless `--include-poison`. Each message is sent before it is deleted, so a crash
replays it twice at worst, which is safe: an event id already recorded changes nothing.

    tests/.venv/bin/python scripts/redrive.py [--queue envelopes|symbolication|notifications]
                                              [--include-poison] [--dry-run]

Queue URLs come from the deployed stack's outputs (.errata/outputs.json) or --dlq-url/--queue-url;
the endpoint and credentials from the environment (AWS_ENDPOINT_URL for the local stack).
"""

import argparse
import json
import os
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]


def stack_urls(queue):
    [outputs] = json.loads((ROOT / ".errata" / "outputs.json").read_text()).values()
    if queue != "envelopes":
        raise SystemExit(f"only the envelope queue's URLs are stack outputs; pass --dlq-url and --queue-url for {queue}")
    return outputs["EnvelopeDlqUrl"], outputs["EnvelopeQueueUrl"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue", default="envelopes")
    parser.add_argument("--dlq-url")
    parser.add_argument("--queue-url")
    parser.add_argument("--include-poison", action="store_true")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    dlq, target = (args.dlq_url, args.queue_url) if args.dlq_url and args.queue_url else stack_urls(args.queue)
    sqs = boto3.client("sqs", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
                       region_name=os.environ.get("AWS_REGION", "us-east-1"))
    moved, kept, seen = 0, [], set()
    while True:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                  VisibilityTimeout=10, WaitTimeSeconds=1)
        messages = [m for m in got.get("Messages", []) if m["MessageId"] not in seen]
        if not messages:
            break
        for m in messages:
            seen.add(m["MessageId"])
            reason = m.get("MessageAttributes", {}).get("errata_reason", {}).get("StringValue")
            if reason and not args.include_poison:
                kept.append((m["MessageId"], reason))
                sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
                continue
            if not args.dry_run:
                sqs.send_message(QueueUrl=target, MessageBody=m["Body"])
                sqs.delete_message(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"])
            moved += 1
    verb = "would move" if args.dry_run else "moved"
    print(f"{verb} {moved} message(s) back to {target.rsplit('/', 1)[-1]}; left {len(kept)} parked with a reason")
    for message_id, reason in kept:
        print(f"  {message_id}: {reason}")


if __name__ == "__main__":
    main()
