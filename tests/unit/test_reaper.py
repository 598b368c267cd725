"""Ending what a scan left: a whole process group, and new children, not the known ones."""

from __future__ import annotations

import os
import subprocess

from processes import gone, running

from scanner_core import reaper


def test_end_group_ends_every_member_even_one_ignoring_sigterm():
    leader = subprocess.Popen(
        ["sh", "-c", "trap '' TERM; sleep 300 & echo $!; exec sleep 300"],
        stdout=subprocess.PIPE,
        process_group=0,
    )
    member = int(leader.stdout.readline())
    assert os.getpgid(member) == leader.pid
    reaper.end_group(leader.pid, grace=0.2)
    leader.wait()
    assert gone([leader.pid, member], settle=0) == []


def test_kill_new_children_spares_the_known_ones_and_reaps_the_rest():
    known = subprocess.Popen(["sleep", "300"])
    try:
        before = reaper.children()
        assert known.pid in before
        strays = [subprocess.Popen(["sleep", "300"], start_new_session=s).pid for s in (0, 1)]
        assert sorted(reaper.kill_new_children(before, grace=0.2)) == sorted(strays)
        assert gone(strays, settle=0) == [] and running(known.pid)
        assert not set(strays) & reaper.children()
    finally:
        known.kill()
        known.wait()


def test_owning_descendants_adopts_orphans_for_the_block_only():
    was = reaper.adopting()
    with reaper.owning_descendants(grace=0.2):
        assert reaper.adopting()
        shell = subprocess.Popen(
            ["sh", "-c", "sleep 300 >/dev/null & echo $!"], stdout=subprocess.PIPE
        )
        orphan = int(shell.stdout.readline())
        shell.wait()
    assert reaper.adopting() == was
    assert gone([orphan], settle=0) == []
