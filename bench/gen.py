#!/usr/bin/env python3
"""Writes a CSV of N synthetic instances for the snledger benchmark.

The columns are those of SPEC §3.3 (`import instances`):
instance_id,service_type,account,region,billing,subscription_months,
expires_at,public_ip,order_amount

Most rows are eligible ECS instances in mainland (cn-*) regions: subscription,
12 months, expiring in 2028, with a public IP. About one row in ten is
something else (other service types, pay-as-you-go, trial, Hong Kong, no
public IP, a too-short subscription) so that the import exercises the whole
row shape, not one constant row. Accounts are a skewed mix.

The output is deterministic for a given N and --seed.

With --pick K --pick-out FILE it also writes K instance ids that are eligible
for `allocate` (one a line), spread evenly over the file, so a benchmark can
allocate on instances at the start, middle and end of the ledger.

Standard library only.
"""

import argparse
import random
import sys

MAINLAND = [
    "cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "cn-qingdao",
    "cn-zhangjiakou", "cn-huhehaote", "cn-wulanchabu", "cn-chengdu", "cn-guangzhou",
    "cn-heyuan", "cn-nanjing", "cn-fuzhou", "cn-wuhan-lr",
]
HEADER = ("instance_id,service_type,account,region,billing,subscription_months,"
          "expires_at,public_ip,order_amount\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of instances (rows)")
    parser.add_argument("-o", "--output", required=True, help="CSV file to write")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--prefix", default="i-bench", help="instance id prefix")
    parser.add_argument("--pick", type=int, default=0, help="how many eligible ids to pick")
    parser.add_argument("--pick-out", help="file for the picked eligible ids")
    args = parser.parse_args()
    if args.count < 1:
        parser.error("count must be at least 1")
    if args.pick and not args.pick_out:
        parser.error("--pick needs --pick-out")

    rng = random.Random(args.seed)
    accounts = max(10, min(5000, args.count // 200))
    width = max(7, len(str(args.count)))
    # Eligible rows wanted for --pick: as close as possible to these indexes.
    targets = [(k * args.count) // args.pick for k in range(args.pick)] if args.pick else []
    picked = []
    t = 0

    with open(args.output, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        buffer = []
        for i in range(args.count):
            instance_id = f"{args.prefix}{i:0{width}d}"
            # Skewed accounts: a few big customers, a long tail.
            account = f"acct-{int(accounts * rng.random() ** 2):05d}"
            region = MAINLAND[i % len(MAINLAND)]
            service_type, billing, months = "ecs", "subscription", 12
            public_ip = f"47.{96 + (i >> 16) % 64}.{(i >> 8) & 255}.{i & 255}"
            order_amount = ""
            day = 1 + i % 28
            month = 1 + (i // 28) % 12
            expires_at = f"2028-{month:02d}-{day:02d}T16:00:00Z"
            eligible = True
            r = i % 100
            if r == 7:
                billing, months, eligible = "pay-as-you-go", 0, False
            elif r == 17:
                region, eligible = "cn-hongkong", False
            elif r == 27:
                billing, months, eligible = "trial", 1, False
            elif r == 37:
                public_ip, eligible = "", False
            elif r == 47:
                months, eligible = 1, False
            elif r == 57:
                service_type = "simple_application_server"
            elif r == 67:
                service_type, public_ip = "cloud_web_hosting", ""
            elif r == 77:
                service_type, months, order_amount = "iot_studio", 12, "199.00"
            elif r == 87:
                service_type, order_amount = "ens", "1280.50"
            elif r == 97:
                months = 36
                expires_at = f"2029-{month:02d}-{day:02d}T16:00:00Z"
            buffer.append(f"{instance_id},{service_type},{account},{region},{billing},"
                          f"{months},{expires_at},{public_ip},{order_amount}\n")
            if len(buffer) >= 8192:
                out.write("".join(buffer))
                buffer.clear()
            if eligible and t < len(targets) and i >= targets[t]:
                picked.append(instance_id)
                t += 1
        out.write("".join(buffer))

    if args.pick:
        if len(picked) < args.pick:
            sys.exit(f"gen.py: only {len(picked)} eligible ids for --pick {args.pick}")
        with open(args.pick_out, "w", encoding="utf-8") as out:
            out.write("".join(f"{p}\n" for p in picked))


if __name__ == "__main__":
    main()
