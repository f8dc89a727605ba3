"""`kit approvals` and `kit approve`: the approvals (Airflow's human-in-the-loop tasks) that wait
for a person, answered from a terminal as from the notebook's run view or Airflow's Required
Actions page."""

from __future__ import annotations

import argparse
import sys

from kit.cli import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_REFUSED,
    EXIT_USAGE,
    add_login_options,
    add_state_dir,
    stack_failure,
)


def _connect(args: argparse.Namespace):
    from kit.cli.user_commands import read_secret
    from kit.client import connect

    password = read_secret(sys.stdin, "password") if args.password_stdin else None
    return connect(args.state_dir, user=args.user, password=password)


def cmd_approvals(args: argparse.Namespace) -> int:
    """`kit approvals [DAG_ID]`: one line per approval that waits (with --all: answered ones
    too): where, what it asks, its options, who may answer."""
    from kit.client import ClientError
    from kit.client import approvals as hitl
    from kit.stack import StackError

    try:
        client = _connect(args)
        found = hitl.approvals(client, args.dag_id or "~", args.run or "~")
    except ValueError as exc:
        print(f"kit approvals: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (StackError, ClientError) as exc:
        return stack_failure("approvals", exc)
    shown = found if args.all else [a for a in found if a.waiting]
    if not shown:
        print("no approval waits for an answer" if not args.all else "no approvals")
    for asked in shown:
        who = ", ".join(u["name"] for u in asked.assigned_users) or "anyone who may edit the DAG"
        if asked.answered:
            by = asked.responded_by or "the timeout"
            state = f"answered {', '.join(asked.chosen)} by {by}"
        else:
            state = asked.state or "not asking yet"
        print(
            f"{hitl.label(asked)}  [{state}]  {asked.subject}\n"
            f"    options: {', '.join(asked.options)}; default on timeout: "
            f"{', '.join(asked.defaults) or 'none (the task fails)'}; who: {who}"
        )
    return EXIT_OK


def cmd_approve(args: argparse.Namespace) -> int:
    """`kit approve DAG_ID`: answer the one approval of DAG_ID that waits (--run, --task and
    --map-index choose among several): Approve, or --reject, or --option for other choices."""
    from kit.client import ClientError, Forbidden
    from kit.client import approvals as hitl
    from kit.stack import StackError

    chosen = [hitl.REJECT] if args.reject else args.option or [hitl.APPROVE]
    try:
        client = _connect(args)
        asked = hitl.choose(
            hitl.waiting(client, args.dag_id, args.run or "~"),
            args.dag_id,
            args.run,
            args.task,
            args.map_index,
        )
        done = hitl.answer(
            client,
            asked.dag_id,
            asked.run_id,
            asked.task_id,
            chosen,
            map_index=asked.map_index,
        )
    except ValueError as exc:
        print(f"kit approve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except hitl.NoneWaiting as exc:
        print(f"kit approve: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except hitl.SeveralWaiting as exc:
        print(f"kit approve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (hitl.NotARespondent, Forbidden) as exc:
        print(f"kit approve: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except hitl.AlreadyAnswered as exc:
        print(f"kit approve: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except (StackError, ClientError) as exc:
        return stack_failure("approve", exc)
    print(
        f"{hitl.label(done)}: answered {', '.join(done.chosen)} as {done.responded_by}; "
        "the run goes on"
    )
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add `kit approvals` and `kit approve` to the parser."""
    parser = sub.add_parser("approvals", help="list the approvals that wait for a person")
    parser.add_argument("dag_id", nargs="?", help="only this DAG's (default: every DAG's)")
    parser.add_argument("--run", help="only this run's")
    parser.add_argument("--all", action="store_true", help="answered ones too")
    add_state_dir(parser)
    add_login_options(parser, "list")
    parser.set_defaults(handler=cmd_approvals)

    parser = sub.add_parser(
        "approve", help="answer the approval a DAG's run waits for (Approve, or --reject)"
    )
    parser.add_argument("dag_id")
    parser.add_argument("--run", help="the run (needed when several runs wait)")
    parser.add_argument("--task", help="the approval task (needed when several tasks wait)")
    parser.add_argument("--map-index", type=int, help="the mapped task instance's index")
    answer = parser.add_mutually_exclusive_group()
    answer.add_argument("--reject", action="store_true", help="answer Reject: deploy is skipped")
    answer.add_argument(
        "--option",
        action="append",
        help="answer this option (repeat for a task that takes several); default: Approve",
    )
    add_state_dir(parser)
    add_login_options(parser, "answer")
    parser.set_defaults(handler=cmd_approve)
